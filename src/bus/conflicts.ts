import type { Effects } from './context.js'

/**
 * Keeps a wave serializable. Events of one wave have different ordering keys and are handled
 * concurrently, yet they may share state (a projection keyed by file, fed by events keyed by
 * content hash): two read-modify-writes of one value in the same wave would lose an update.
 * Walking the wave in order, an event that read or wrote what an earlier event of the wave
 * wrote is deferred to the next wave and handled again, against the committed state. The
 * effects committed are then those of handling the events one after another.
 *
 * Granularity: a whole key (`get`, `set`, `del`, `hgetall`) or one hash field (`hget`, `hset`,
 * `hdel`, `hincrby`), so a projection kept in one hash is not serialised field by field.
 */
export class WaveConflicts {
  /** Whole keys set/deleted, and `key\0field` hash fields written. */
  private readonly written = new Set<string>()
  /** Every key written in any way (what an hgetall or get must not have read). */
  private readonly touched = new Set<string>()

  /** True when the event must wait for the next wave; otherwise records its writes. */
  defer(reads: readonly string[], effects: Effects): boolean {
    if (this.touched.size > 0) {
      for (const read of reads) if (this.conflicts(read)) return true
      for (const write of effects.writes) if (this.conflicts(target(write))) return true
    }
    for (const write of effects.writes) {
      this.written.add(target(write))
      this.touched.add(write[1] as string)
    }
    return false
  }

  private conflicts(item: string): boolean {
    const sep = item.indexOf('\0')
    if (sep < 0) return this.touched.has(item)
    return this.written.has(item) || this.written.has(item.slice(0, sep))
  }
}

/** `key` for whole-key writes, `key\0field` for hash-field writes. */
function target(write: readonly string[]): string {
  const op = write[0]
  return op === 'set' || op === 'del' ? (write[1] as string) : `${write[1]}\0${write[2]}`
}
