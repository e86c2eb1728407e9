import { decodeEvent, type EventEnvelope } from '../events/envelope.js'
import type { Bus } from './bus.js'
import { parseIndexRow } from './index-rows.js'

/** One event of a correlation, or one of its dead letters, as the index lists them. */
export type IndexedItem =
  | { readonly kind: 'event'; readonly type: string; readonly entryId: string; readonly event: EventEnvelope | null }
  | { readonly kind: 'dead-letter'; readonly consumer: string; readonly entryId: string; readonly fields: Record<string, string> | null }

/**
 * Reads a correlation's index from position `from`: O(its events), never a stream scan. Each
 * index row names a stream (or dead-letter stream) and an entry id; entries are fetched in one
 * pipeline. Entries trimmed since come back with `event: null`.
 */
export async function readCorrelation(bus: Bus, correlationId: string, from = 0): Promise<IndexedItem[]> {
  const rows = await bus.redis.lrange(bus.keys.correlation(correlationId), from, -1)
  if (rows.length === 0) return []
  const p = bus.redis.pipeline()
  const refs = rows.map((row) => {
    const ref = parseIndexRow(row)
    const key = ref.kind === 'dead-letter' ? bus.keys.deadLetters(ref.consumer) : bus.keys.stream(ref.type)
    p.xrange(key, ref.entryId, ref.entryId)
    return ref
  })
  const replies = (await p.exec()) ?? []
  return refs.map((ref, i): IndexedItem => {
    const entry = (replies[i]?.[1] as [string, string[]][] | undefined)?.[0]
    if (ref.kind === 'dead-letter') {
      const fields: Record<string, string> = {}
      if (entry) for (let j = 0; j + 1 < entry[1].length; j += 2) fields[entry[1][j] as string] = entry[1][j + 1] as string
      return { ...ref, fields: entry ? fields : null }
    }
    return { ...ref, event: entry ? decodeEvent(entry[1]) : null }
  })
}

/** Number of rows in a correlation's index (0 when unknown or expired). */
export function correlationSize(bus: Bus, correlationId: string): Promise<number> {
  return bus.redis.llen(bus.keys.correlation(correlationId))
}

/**
 * Follows a correlation live: yields new items as they are indexed, polling the index length
 * (cheap: one LLEN) every `intervalMs` until `signal` aborts.
 */
export async function* followCorrelation(bus: Bus, correlationId: string, options: { intervalMs?: number; signal?: AbortSignal } = {}): AsyncGenerator<IndexedItem> {
  let seen = 0
  while (!options.signal?.aborted) {
    const size = await correlationSize(bus, correlationId)
    if (size > seen) {
      for (const item of await readCorrelation(bus, correlationId, seen)) yield item
      seen = size
    } else {
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 200))
    }
  }
}
