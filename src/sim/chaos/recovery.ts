import type { Bus, ConsumerDefinition } from '../../bus/index.js'
import { compareEntryIds } from '../../bus/entry-ids.js'
import { toRecord } from '../../bus/reader.js'

/** A consumer group on one of the streams it reads. */
interface Reading {
  readonly group: string
  readonly stream: string
}

/** Where each stream a set of consumers reads ended when a fault hit. */
export interface Tips {
  readonly readings: readonly Reading[]
  readonly lastIds: ReadonlyMap<string, string>
}

export function readingsOf(bus: Bus, consumers: readonly ConsumerDefinition[]): Reading[] {
  return consumers.flatMap((c) => c.subscribes.map((type) => ({ group: bus.keys.group(c.name), stream: bus.keys.stream(type) })))
}

/** The last entry id of each stream the readings cover ('0-0' for an empty or missing stream). */
export async function readTips(bus: Bus, readings: readonly Reading[]): Promise<Tips> {
  const streams = [...new Set(readings.map((r) => r.stream))]
  const p = bus.redis.pipeline()
  for (const s of streams) p.xrevrange(s, '+', '-', 'COUNT', 1)
  const replies = (await p.exec()) ?? []
  const lastIds = new Map<string, string>()
  streams.forEach((s, i) => {
    const entries = (replies[i]?.[1] ?? []) as [string, string[]][]
    lastIds.set(s, entries[0]?.[0] ?? '0-0')
  })
  return { readings, lastIds }
}

/**
 * True once every group has handled everything its streams held at the tips: it has read past
 * the tip and nothing at or below it is still pending. That is "recovered" for a fault: all the
 * work it caught in flight is done (acknowledged, or dead-lettered), not merely that Redis answers.
 */
export async function caughtUp(bus: Bus, tips: Tips): Promise<boolean> {
  // One XINFO GROUPS per stream (several groups read most streams), one XPENDING per reading.
  const streams = [...new Set(tips.readings.map((r) => r.stream))]
  const p = bus.redis.pipeline()
  for (const s of streams) p.xinfo('GROUPS', s)
  for (const r of tips.readings) p.xpending(r.stream, r.group)
  const replies = (await p.exec()) ?? []
  const groupsOf = new Map<string, Record<string, unknown>[] | null>()
  streams.forEach((s, i) => {
    const [error, groups] = replies[i] ?? []
    groupsOf.set(s, error ? null : (groups as unknown[][]).map(toRecord))
  })
  return tips.readings.every((r, i) => {
    const tip = tips.lastIds.get(r.stream) ?? '0-0'
    if (tip === '0-0') return true
    const group = groupsOf.get(r.stream)?.find((g) => g['name'] === r.group)
    const [pendingError, pending] = replies[streams.length + i] ?? []
    if (group === undefined || pendingError) return false
    if (compareEntryIds(String(group['last-delivered-id']), tip) < 0) return false
    const [count, oldest] = pending as [number, string | null]
    return Number(count) === 0 || (oldest !== null && compareEntryIds(oldest, tip) > 0)
  })
}
