import type { Bus } from '../../bus/index.js'
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
  /** Called once reading starts: the position (exclusive) and the streams known so far. */
  readonly onStart?: (start: { readonly position: string; readonly types: readonly string[] }) => void
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

/** Turns `--stream`/`--type` values into a type matcher and the exact names to read even if unseen. */
export function typeMatcher(bus: Bus, patterns: readonly string[]): { matches(type: string): boolean; exact: string[] } {
  const prefix = bus.keys.stream('')
  const names = patterns.map((p) => (p.startsWith(prefix) ? p.slice(prefix.length) : p))
  if (names.length === 0) return { matches: () => true, exact: [] }
  const globs = names.filter((n) => /[*?]/.test(n)).map(globToRegExp)
  const exact = names.filter((n) => !/[*?]/.test(n))
  return { matches: (type) => exact.includes(type) || globs.some((g) => g.test(type)), exact }
}

type XReadReply = [string, [string, string[]][]][] | null

/**
 * Follows streams live with XREAD BLOCK on a connection of its own, all streams in one call,
 * until `signal` aborts. Entries come out in entry-id order across streams (a stream that
 * returned a full page holds the others back until it catches up). Filters by correlation id
 * and key are applied here: XREAD cannot filter.
 */
export async function* tailEvents(bus: Bus, options: TailOptions = {}): AsyncGenerator<TailItem> {
  const { signal } = options
  const count = options.count ?? 500
  const refreshMs = options.refreshMs ?? 2_000
  const matcher = typeMatcher(bus, [...(options.streams ?? []), ...(options.types ?? [])])
  const start = startPosition(options.since, await redisTimeMs(bus.redis))
  const positions = new Map<string, string>() // stream key -> last id read
  const typeOf = new Map<string, string>()
  const addType = (type: string) => {
    const key = bus.keys.stream(type)
    if (!positions.has(key)) {
      positions.set(key, start)
      typeOf.set(key, type)
    }
  }
  matcher.exact.forEach(addType)
  let refreshedAt = 0
  const conn = bus.connect({ autoResendUnfulfilledCommands: false, maxRetriesPerRequest: null })
  const stop = () => conn.disconnect()
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
          if (options.since === undefined) await skipToLast(bus, positions)
          options.onStart?.({ position: start, types: [...typeOf.values()] })
          started = true
        }
      }
      if (positions.size === 0) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(refreshMs, options.blockMs ?? 1_000)))
        continue
      }
      const keys = [...positions.keys()]
      let reply: XReadReply
      try {
        reply = (await conn.xread('COUNT', count, 'BLOCK', options.blockMs ?? 1_000, 'STREAMS', ...keys, ...keys.map((k) => positions.get(k) as string))) as XReadReply
      } catch (error) {
        if (signal?.aborted) return
        throw error
      }
      let horizon: string | null = null
      for (const [key, entries] of reply ?? []) {
        const last = entries[entries.length - 1]
        if (!last) continue
        positions.set(key, last[0])
        if (entries.length >= count && (horizon === null || compareEntryIds(last[0], horizon) < 0)) horizon = last[0]
        for (const [entryId, fields] of entries) held.push({ key, entryId, fields })
      }
      held.sort((a, b) => compareEntryIds(a.entryId, b.entryId))
      const cut = horizon === null ? held.length : held.findIndex((h) => compareEntryIds(h.entryId, horizon) > 0)
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
    conn.disconnect()
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
