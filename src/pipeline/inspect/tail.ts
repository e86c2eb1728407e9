import { partitionBus, type Bus } from '../../bus/index.js'
import { decodeEvent, type EventEnvelope } from '../../events/index.js'
import { compareEntryIds } from '../../bus/entry-ids.js'
import { startPosition } from './stream-ids.js'
import { redisTimeMs } from '../../redis/clock.js'

/** What `pipeline tail` shows. Patterns are event types (one stream each) with `*` and `?`. */
export interface TailOptions {
  /** Stream names: event types, or full keys (`{ns}:stream:<type>`); globs allowed. */
  readonly streams?: readonly string[]
  /** Event types; globs allowed (`pipeline.file.*`). Joined with `streams`. Default: all. */
  readonly types?: readonly string[]
  readonly correlationId?: string
  readonly key?: string
  /** A duration back from now (`10m`) or an entry id. Default: from now on. */
  readonly since?: string
  /** How long one XREAD blocks. Default 1000 ms. */
  readonly blockMs?: number
  /** How often the set of known streams is re-read, so new types show up. Default 2000 ms. */
  readonly refreshMs?: number
  /** Entries per stream per read. Default 500. */
  readonly count?: number
  readonly signal?: AbortSignal
  /** Called once reading starts: the position (exclusive), the streams known so far, and how many partitions are followed. */
  readonly onStart?: (start: { readonly position: string; readonly types: readonly string[]; readonly partitions: number }) => void
}

/** One stream entry; `event` is null (and `error` says why) when it is not an eventspine event. */
export interface TailItem {
  readonly type: string
  readonly entryId: string
  readonly event: EventEnvelope | null
  readonly error?: string
}

export function globToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')
  return new RegExp(`^${body}$`)
}

/** Turns `--stream`/`--type` values into a type matcher and the exact names to read even if unseen (a full key of any partition names its type). */
export function typeMatcher(bus: Pick<Bus, 'keys'> & Partial<Pick<Bus, 'partitions'>>, patterns: readonly string[]): { matches(type: string): boolean; exact: string[] } {
  const prefixes = (bus.partitions ?? [bus.keys]).map((keys) => keys.stream(''))
  const names = patterns.map((p) => {
    const prefix = prefixes.find((x) => p.startsWith(x))
    return prefix === undefined ? p : p.slice(prefix.length)
  })
  if (names.length === 0) return { matches: () => true, exact: [] }
  const globs = names.filter((n) => /[*?]/.test(n)).map(globToRegExp)
  const exact = names.filter((n) => !/[*?]/.test(n))
  return { matches: (type) => exact.includes(type) || globs.some((g) => g.test(type)), exact }
}

type XReadReply = [string, [string, string[]][]][] | null

/** One partition being followed: its view of the bus, its blocking connection, the last id read per stream key. */
interface Followed {
  readonly bus: Bus
  readonly conn: ReturnType<Bus['connect']>
  readonly positions: Map<string, string>
}

/**
 * Follows streams live with XREAD BLOCK, all of a partition's streams in one call on a
 * connection of its own, the partitions in parallel, until `signal` aborts. Entries come out in
 * entry-id order across streams (a stream that returned a full page holds the others back until
 * it catches up); entry ids of different partitions compare by time only (their streams differ),
 * and each read of every partition is merged before any is shown. Filters by correlation id and
 * key are applied here: XREAD cannot filter.
 */
export async function* tailEvents(bus: Bus, options: TailOptions = {}): AsyncGenerator<TailItem> {
  const { signal } = options
  const count = options.count ?? 500
  const refreshMs = options.refreshMs ?? 2_000
  const matcher = typeMatcher(bus, [...(options.streams ?? []), ...(options.types ?? [])])
  const start = startPosition(options.since, await redisTimeMs(bus.redis))
  const typeOf = new Map<string, string>() // stream key (of any partition) -> type
  const followed: Followed[] = bus.partitions.map((_, p) => ({
    bus: partitionBus(bus, p),
    conn: bus.connect({ autoResendUnfulfilledCommands: false, maxRetriesPerRequest: null }),
    positions: new Map<string, string>(),
  }))
  const addType = (type: string) => {
    for (const f of followed) {
      const key = f.bus.keys.stream(type)
      if (!f.positions.has(key)) {
        f.positions.set(key, start)
        typeOf.set(key, type)
      }
    }
  }
  matcher.exact.forEach(addType)
  let refreshedAt = 0
  const stop = () => followed.forEach((f) => f.conn.disconnect())
  signal?.addEventListener('abort', stop, { once: true })
  let held: { key: string; entryId: string; fields: string[] }[] = []
  let started = false
  try {
    while (!signal?.aborted) {
      if (Date.now() - refreshedAt >= refreshMs) {
        for (const type of await bus.redis.smembers(bus.keys.streams)) if (matcher.matches(type)) addType(type)
        refreshedAt = Date.now()
        if (!started) {
          // "From now" is each stream's last entry (XREAD's `$`), resolved once so no entry falls
          // between two reads; streams that appear later start at the clock time.
          if (options.since === undefined) await Promise.all(followed.map((f) => skipToLast(f.bus, f.positions)))
          options.onStart?.({ position: start, types: [...new Set(typeOf.values())], partitions: followed.length })
          started = true
        }
      }
      if (typeOf.size === 0) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(refreshMs, options.blockMs ?? 1_000)))
        continue
      }
      let replies: XReadReply[]
      try {
        replies = await Promise.all(
          followed.map((f) => {
            const keys = [...f.positions.keys()]
            return f.conn.xread('COUNT', count, 'BLOCK', options.blockMs ?? 1_000, 'STREAMS', ...keys, ...keys.map((k) => f.positions.get(k) as string)) as Promise<XReadReply>
          }),
        )
      } catch (error) {
        if (signal?.aborted) return
        throw error
      }
      let horizon: string | null = null
      replies.forEach((reply, p) => {
        for (const [key, entries] of reply ?? []) {
          const last = entries[entries.length - 1]
          if (!last) continue
          ;(followed[p] as Followed).positions.set(key, last[0])
          if (entries.length >= count && (horizon === null || compareEntryIds(last[0], horizon) < 0)) horizon = last[0]
          for (const [entryId, fields] of entries) held.push({ key, entryId, fields })
        }
      })
      held.sort((a, b) => compareEntryIds(a.entryId, b.entryId))
      const cut = horizon === null ? held.length : held.findIndex((h) => compareEntryIds(h.entryId, horizon as string) > 0)
      const ready = held.slice(0, cut < 0 ? held.length : cut)
      held = held.slice(ready.length)
      for (const entry of ready) {
        const item = decode(typeOf.get(entry.key) ?? entry.key, entry.entryId, entry.fields)
        if (options.correlationId !== undefined && item.event?.correlationId !== options.correlationId) continue
        if (options.key !== undefined && item.event?.key !== options.key) continue
        yield item
      }
    }
  } finally {
    signal?.removeEventListener('abort', stop)
    stop()
  }
}

async function skipToLast(bus: Bus, positions: Map<string, string>): Promise<void> {
  const keys = [...positions.keys()]
  if (keys.length === 0) return
  const p = bus.redis.pipeline()
  for (const key of keys) p.xrevrange(key, '+', '-', 'COUNT', 1)
  const replies = (await p.exec()) ?? []
  keys.forEach((key, i) => {
    const last = (replies[i]?.[1] as [string, string[]][] | undefined)?.[0]?.[0]
    if (last !== undefined && compareEntryIds(last, positions.get(key) as string) > 0) positions.set(key, last)
  })
}

function decode(type: string, entryId: string, fields: string[]): TailItem {
  try {
    return { type, entryId, event: decodeEvent(fields, `entry ${entryId} of ${type}`) }
  } catch (error) {
    return { type, entryId, event: null, error: error instanceof Error ? error.message : String(error) }
  }
}
