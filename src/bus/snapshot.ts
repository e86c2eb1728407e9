import type { Bus } from './bus.js'
import { keysUnder } from './state-diff.js'

/** Where a snapshot's state stands: per stream, every acknowledged entry up to here is in it, but those deferred. */
export interface SnapshotPoint {
  readonly through: Readonly<Record<string, string>>
  readonly deferred: Readonly<Record<string, readonly string[]>>
  /** Events read to build it (from zero). */
  readonly events: number
}

export interface Snapshot extends SnapshotPoint {
  /** ISO time it was taken. */
  readonly takenAt: string
}

/** Copies every key under `fromPrefix` to `toPrefix` (replacing what was there) in one MULTI, then `last` runs in it too. */
async function copyAll(bus: Bus, fromPrefix: string, toPrefix: string, last: (m: ReturnType<Bus['redis']['multi']>) => void): Promise<void> {
  const [source, target] = await Promise.all([keysUnder(bus, fromPrefix), keysUnder(bus, toPrefix)])
  const m = bus.redis.multi()
  if (target.length > 0) m.unlink(...target)
  for (const key of source) m.copy(key, toPrefix + key.slice(fromPrefix.length), 'REPLACE')
  last(m)
  await m.exec()
}

/** Saves the rebuild's shadow state as the consumer's snapshot (one atomic step: keys and where they stand). */
export async function takeSnapshot(bus: Bus, consumer: string, point: SnapshotPoint): Promise<void> {
  const meta = bus.keys.snapshot(consumer)
  await copyAll(bus, bus.keys.shadowStatePrefix(consumer), bus.keys.snapshotStatePrefix(consumer), (m) =>
    m.del(meta).hset(meta, 'through', JSON.stringify(point.through), 'deferred', JSON.stringify(point.deferred), 'events', String(point.events), 'takenAt', new Date().toISOString()),
  )
}

/** Puts the latest snapshot into the shadow keys; null when the consumer has none. */
export async function restoreSnapshot(bus: Bus, consumer: string): Promise<Snapshot | null> {
  const meta = await bus.redis.hgetall(bus.keys.snapshot(consumer))
  if (meta.through === undefined) return null
  await copyAll(bus, bus.keys.snapshotStatePrefix(consumer), bus.keys.shadowStatePrefix(consumer), () => {})
  return { through: JSON.parse(meta.through) as Record<string, string>, deferred: JSON.parse(meta.deferred ?? '{}') as Record<string, string[]>, events: Number(meta.events ?? 0), takenAt: meta.takenAt ?? '' }
}
