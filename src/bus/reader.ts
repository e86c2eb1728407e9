import { decodeEvent, type EventEnvelope } from '../events/envelope.js'
import { errorMessage } from '../errors.js'
import type { Bus } from './bus.js'
import { compareEntryIds, previousEntryId } from './entry-ids.js'
import type { ScriptClient } from './scripts.js'

/** One stream entry held by a runner until it is committed or dead-lettered. */
export interface Held {
  readonly streamKey: string
  readonly entryId: string
  /** Raw fields; null when the entry was deleted (trimmed) before it was handled. */
  readonly fields: string[] | null
  /** Decoded, upcast event; undefined when decoding or validation failed (see `invalid`). */
  event: EventEnvelope | undefined
  invalid: string | undefined
  orderKey: string
  /** Failed attempts recorded so far (the consumer's own counter, not Redis's delivery count). */
  failures: number
  notBefore: number
  /** Transient failures in a row (kept in memory: they count no attempt, only set the backoff). */
  transientFailures?: number
  /** What its last handling read and wrote, when that handling was deferred (see conflicts.ts). */
  footprint?: string[] | undefined
}

type RawEntry = [id: string, fields: string[] | null]
type ReadReply = [streamKey: string, entries: RawEntry[]][] | null

/**
 * The Redis side of reading for one consumer: group creation and recovery, new entries, the
 * consumer's own pending entries, and claims from dead instances.
 */
export class GroupReader {
  /** Highest entry id committed per stream: where a lost group is recreated from. */
  readonly lastCommitted = new Map<string, string>()
  /**
   * Per stream, where its group was last re-created from, until a read comes back empty. Until
   * then the entries after it are neither held (forgotten at the loss) nor all committed, so a
   * group lost again must start no later than here, whatever was committed since.
   */
  private readonly recreatedFrom = new Map<string, string>()

  /**
   * Set while a re-created group is read again: new reads may then bring back entries that
   * failed before, whose attempt counters must be loaded (and cleared on commit).
   */
  get rewound(): boolean {
    return this.recreatedFrom.size > 0
  }

  constructor(
    private readonly bus: Bus,
    private readonly group: string,
    private readonly instance: string,
    readonly streamKeys: readonly string[],
    private readonly conn: ScriptClient,
  ) {}

  async ensureGroups(): Promise<void> {
    for (const key of this.streamKeys) await this.createGroup(key, '0')
  }

  private async createGroup(key: string, from: string): Promise<boolean> {
    try {
      await this.bus.redis.xgroup('CREATE', key, this.group, from, 'MKSTREAM')
      return true
    } catch (error) {
      if (errorMessage(error).includes('BUSYGROUP')) return false
      throw error
    }
  }

  /**
   * Redis restarted without its data (or the group destroyed) answers NOGROUP: recreate each
   * missing group from the last position known, never silently from `$`, and say so. The
   * position is just below the oldest entry still `held` (read, not yet committed: retrying,
   * deferred, behind its key), and no later than where a previous re-creation started if its
   * entries were not all read again yet; else the last entry committed. Entries committed
   * after it come again and the inbox acknowledges them without effect.
   */
  async recoverGroups(held: Iterable<{ readonly streamKey: string; readonly entryId: string }> = []): Promise<void> {
    const floor = new Map<string, string>()
    const lower = (key: string, id: string) => {
      const seen = floor.get(key)
      if (seen === undefined || compareEntryIds(id, seen) < 0) floor.set(key, id)
    }
    for (const h of held) lower(h.streamKey, previousEntryId(h.entryId))
    for (const [key, from] of this.recreatedFrom) lower(key, from)
    for (const key of this.streamKeys) {
      const from = floor.get(key) ?? this.lastCommitted.get(key) ?? '0'
      if (await this.createGroup(key, from)) {
        this.recreatedFrom.set(key, from)
        this.bus.warn(`consumer group ${this.group} on ${key} was missing (Redis restarted without its data?); recreated from entry ${from}`)
      }
    }
  }

  /** New entries; blocks up to `blockMs` when `blockMs` > 0. An empty read ends `rewound`. */
  async readNew(count: number, blockMs: number): Promise<[string, RawEntry][]> {
    const block = blockMs > 0 ? ['BLOCK', Math.max(1, Math.round(blockMs))] : []
    const reply = (await this.conn.call(
      'XREADGROUP', 'GROUP', this.group, this.instance, 'COUNT', count, ...block,
      'STREAMS', ...this.streamKeys, ...this.streamKeys.map(() => '>'),
    )) as ReadReply
    const entries = flatten(reply)
    // Every entry after each re-creation was delivered again: held now, or committed or dead-lettered.
    if (entries.length === 0) this.recreatedFrom.clear()
    return entries
  }

  /** This instance's own pending entries (after a reconnect a reply may have been lost). */
  async readOwnPending(count: number): Promise<[string, RawEntry][]> {
    const out: [string, RawEntry][] = []
    for (const key of this.streamKeys) {
      let from = '0'
      for (;;) {
        const reply = (await this.conn.call('XREADGROUP', 'GROUP', this.group, this.instance, 'COUNT', count, 'STREAMS', key, from)) as ReadReply
        const entries = flatten(reply)
        if (entries.length === 0) break
        out.push(...entries)
        from = (entries[entries.length - 1] as [string, RawEntry])[1][0]
      }
    }
    return out
  }

  /**
   * Claims entries idle for at least `minIdleMs` from other instances, in id order. Ids that
   * XAUTOCLAIM reports deleted (trimmed while pending) come back with null fields so they are
   * dead-lettered, not silently lost.
   */
  async claim(minIdleMs: number, count: number): Promise<[string, RawEntry][]> {
    const out: [string, RawEntry][] = []
    for (const key of this.streamKeys) {
      let cursor = '0-0'
      do {
        const reply = (await this.bus.redis.xautoclaim(key, this.group, this.instance, minIdleMs, cursor, 'COUNT', count)) as [string, RawEntry[], string[]?]
        cursor = reply[0]
        for (const entry of reply[1]) out.push([key, entry])
        for (const id of reply[2] ?? []) out.push([key, [id, null]])
      } while (cursor !== '0-0')
    }
    return out
  }

  /** Removes consumers of this group that hold nothing (left by earlier instances). */
  async forgetIdleInstances(): Promise<void> {
    for (const key of this.streamKeys) {
      const consumers = (await this.bus.redis.xinfo('CONSUMERS', key, this.group)) as unknown[][]
      for (const c of consumers) {
        const info = toRecord(c)
        if (info.name !== this.instance && Number(info.pending) === 0) {
          await this.bus.redis.xgroup('DELCONSUMER', key, this.group, String(info.name))
        }
      }
    }
  }
}



/** NOGROUP is a Redis error reply (also inside a script's error), not a code of ours. */
export function isNoGroup(error: unknown): boolean {
  return errorMessage(error).includes('NOGROUP')
}

/** Decodes, upcasts and validates an entry; failures become `invalid` (dead-lettered at once). */
export function toHeld(bus: Bus, streamKey: string, [entryId, fields]: RawEntry, orderKeyOf: (e: EventEnvelope) => string): Held {
  const held: Held = { streamKey, entryId, fields, event: undefined, invalid: undefined, orderKey: '', failures: 0, notBefore: 0 }
  if (fields === null) {
    held.invalid = 'the entry was deleted (trimmed) from the stream before it was handled'
    return held
  }
  try {
    const raw = decodeEvent(fields, `entry ${entryId} of ${streamKey}`)
    bus.contracts.validate(raw.type, raw.version, raw.payload, `read from ${streamKey}`)
    const lifted = bus.contracts.upcast(raw)
    // An upcaster's output is checked too; only events of older versions pay for it.
    if (lifted !== raw) bus.contracts.validate(lifted.type, lifted.version, lifted.payload, `upcast from v${raw.version}`)
    held.event = lifted
    held.orderKey = orderKeyOf(held.event)
  } catch (error) {
    held.invalid = errorMessage(error)
  }
  return held
}

function flatten(reply: ReadReply): [string, RawEntry][] {
  const out: [string, RawEntry][] = []
  if (!reply) return out
  for (const [key, entries] of reply) for (const entry of entries) out.push([key, entry])
  return out
}

/** A flat Redis reply (name, value, name, value...) as an object. */
export function toRecord(flat: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = flat[i + 1]
  return out
}
