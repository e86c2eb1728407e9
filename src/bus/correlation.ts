import { decodeEvent, type EventEnvelope } from '../events/envelope.js'
import { eachPartition, mergeByEntryTime } from './across.js'
import type { Bus } from './bus.js'
import { parseIndexRow, type IndexRow } from './index-rows.js'

/** Where an item is, with more than one partition (absent with one, as before partitions). */
type InPartition = { readonly partition?: number }

/** One event of a correlation, or one of its dead letters, as the index lists them. */
export type IndexedItem =
  | ({ readonly kind: 'event'; readonly type: string; readonly entryId: string; readonly event: EventEnvelope | null } & InPartition)
  | ({ readonly kind: 'dead-letter'; readonly consumer: string; readonly entryId: string; readonly fields: Record<string, string> | null } & InPartition)

/**
 * Reads a correlation's index: O(its events), never a stream scan. A file's index lives in one
 * partition when its pipeline keeps it local, but emits to other partitions put rows there: every
 * partition's index is read (in parallel, one pipeline each) and the items merged by entry time.
 * `from` skips the first rows of each partition's index (`correlationSizes` of an earlier read).
 * Each index row names a stream (or dead-letter stream) and an entry id; entries trimmed since
 * come back with `event: null`.
 */
export async function readCorrelation(bus: Bus, correlationId: string, from: readonly number[] = []): Promise<IndexedItem[]> {
  const each = await eachPartition(bus, (view, p) => readPartitionIndex(view, correlationId, from[p] ?? 0))
  return mergeByEntryTime(each, (item) => item.entryId)
}

async function readPartitionIndex(bus: Bus, correlationId: string, from: number): Promise<IndexedItem[]> {
  const rows = await bus.redis.lrange(bus.keys.correlation(correlationId), from, -1)
  if (rows.length === 0) return []
  const where = bus.partitionCount === 1 ? {} : { partition: bus.keys.partition }
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
      return { ...ref, ...where, fields: entry ? fields : null }
    }
    return { ...ref, ...where, event: entry ? decodeEvent(entry[1]) : null }
  })
}

/** A correlation's index rows (no entries read), every partition's, in entry-time order; each row's entry is in its `partition`. */
export async function readIndexRows(bus: Bus, correlationId: string): Promise<(IndexRow & { readonly partition: number })[]> {
  const each = await eachPartition(bus, async (view, partition) => (await view.redis.lrange(view.keys.correlation(correlationId), 0, -1)).map((row) => ({ ...parseIndexRow(row), partition })))
  return mergeByEntryTime(each, (row) => row.entryId)
}

/** Rows in each partition's index of a correlation (0 when unknown or expired), by partition. */
export function correlationSizes(bus: Bus, correlationId: string): Promise<number[]> {
  return eachPartition(bus, (view) => view.redis.llen(view.keys.correlation(correlationId)))
}

/** Number of rows in a correlation's index, over every partition (0 when unknown or expired). */
export async function correlationSize(bus: Bus, correlationId: string): Promise<number> {
  return (await correlationSizes(bus, correlationId)).reduce((n, s) => n + s, 0)
}

/**
 * Follows a correlation live: yields new items as they are indexed, polling the index lengths
 * (cheap: one LLEN a partition) every `intervalMs` until `signal` aborts.
 */
export async function* followCorrelation(bus: Bus, correlationId: string, options: { intervalMs?: number; signal?: AbortSignal } = {}): AsyncGenerator<IndexedItem> {
  let seen: number[] = []
  while (!options.signal?.aborted) {
    const sizes = await correlationSizes(bus, correlationId)
    if (sizes.some((size, p) => size > (seen[p] ?? 0))) {
      for (const item of await readCorrelation(bus, correlationId, seen)) yield item
      seen = sizes
    } else {
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 200))
    }
  }
}
