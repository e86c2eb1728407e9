import type { Effects, WriteEffect } from './context.js'

/**
 * Keeps a wave serializable in stream order. Events of one wave have different ordering keys
 * and are handled concurrently, yet they may share state (a projection keyed by file, fed by
 * events keyed by content hash): two read-modify-writes of one value in the same wave would
 * lose an update. Walking the wave in order:
 * - an event that read or wrote what an earlier event of the wave wrote is deferred to the next
 *   wave and handled again, against the committed state;
 * - a deferred event's footprint (what it read and wrote) then blocks every later event that
 *   touches it, so no event overtakes an earlier one it shares state with.
 * The effects committed are those of handling the events one after another, in stream order.
 *
 * Granularity: a whole key (`get`, `set`, `del`, `hgetall`) or one hash field (`hget`, `hset`,
 * `hdel`, `hincrby`), so a projection kept in one hash is not serialised field by field.
 */
export class WaveConflicts {
  /** Whole keys and `key\0field` entries that later events must not touch. */
  private readonly items = new Set<string>()
  /** The key part of every entry in `items` (what a whole-key read or write must not touch). */
  private readonly keys = new Set<string>()

  /** True when the event must wait for the next wave; otherwise records its writes. */
  defer(reads: readonly string[], effects: Effects): boolean {
    const writes = effects.writes.map(target)
    if (this.items.size > 0 && (reads.some((r) => this.conflicts(r)) || writes.some((w) => this.conflicts(w)))) {
      this.block([...reads, ...writes])
      return true
    }
    for (const w of writes) this.add(w)
    return false
  }

  /** Marks state that an earlier, deferred event read or wrote: later events must not touch it. */
  block(footprint: readonly string[]): void {
    for (const item of footprint) this.add(item)
  }

  private add(item: string): void {
    this.items.add(item)
    const sep = item.indexOf('\0')
    this.keys.add(sep < 0 ? item : item.slice(0, sep))
  }

  private conflicts(item: string): boolean {
    const sep = item.indexOf('\0')
    if (sep < 0) return this.keys.has(item)
    return this.items.has(item) || this.items.has(item.slice(0, sep))
  }
}

/** What a handled event read and wrote, as WaveConflicts counts it. */
export function footprint(reads: readonly string[], effects: Effects): string[] {
  return [...reads, ...effects.writes.map(target)]
}

/** `key` for whole-key writes, `key\0field` for hash-field writes. */
function target(write: WriteEffect): string {
  return write.kind === 'set' || write.kind === 'del' ? write.key : `${write.key}\0${write.field}`
}

/**
 * Chooses a wave from the heads of the per-key queues, in queue order. A head deferred before
 * carries the footprint of its last handling: when it overlaps that of an earlier deferred head
 * it sits this wave out (handling it now would only defer it again) and its footprint blocks the
 * events after it. Without this, n events on one hot key would be handled n²/2 times.
 */
export function formWave<H extends { footprint?: readonly string[] | undefined }>(heads: readonly H[], limit: number): { held: H; sitOut: boolean }[] {
  const wave: { held: H; sitOut: boolean }[] = []
  const claimed = new WaveConflicts()
  let handled = 0
  for (const held of heads) {
    if (handled >= limit) break
    const fp = held.footprint
    if (fp !== undefined && fp.length > 0) {
      const sitOut = claimed.defer(fp, { emits: [], writes: [] })
      if (!sitOut) claimed.block(fp)
      wave.push({ held, sitOut })
      if (!sitOut) handled++
    } else {
      wave.push({ held, sitOut: false })
      handled++
    }
  }
  return wave
}
