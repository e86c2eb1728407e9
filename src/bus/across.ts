import { partitionBus, type Bus } from './bus.js'
import { entryTime } from './entry-ids.js'

/**
 * The views' merge helpers: a view reads each partition with today's code on
 * `partitionBus(bus, p)` and merges the results here, one helper per kind of result. Reads of
 * different partitions go out in parallel, each in its own pipeline (on a Redis Cluster they
 * live in different slots). With one partition every helper is the plain read, at its cost.
 */

/** `read` on every partition, in parallel; results by partition number. */
export function eachPartition<T>(bus: Bus, read: (partition: Bus, p: number) => Promise<T>): Promise<T[]> {
  if (bus.partitionCount === 1) return read(bus, 0).then((one) => [one])
  return Promise.all(bus.partitions.map((_, p) => read(partitionBus(bus, p), p)))
}

/**
 * Lists that are each in entry-id order (one per partition) as one, in entry-time order. Entry
 * ids of different partitions come from different streams: only their times compare, so ties
 * of one millisecond go by partition, and within a partition keep the list's own order.
 */
export function mergeByEntryTime<T>(lists: readonly (readonly T[])[], entryIdOf: (item: T) => string): T[] {
  if (lists.length === 1) return [...(lists[0] ?? [])]
  const tagged = lists.flatMap((list, p) => list.map((item, i) => ({ item, p, i, at: entryTime(entryIdOf(item)) })))
  tagged.sort((a, b) => a.at - b.at || a.p - b.p || a.i - b.i)
  return tagged.map((t) => t.item)
}

/** Numeric fields summed over records of one shape (counters of each partition). */
export function sumCounts<K extends string>(records: readonly Readonly<Record<K, number>>[], fields: readonly K[]): Record<K, number> {
  const out = {} as Record<K, number>
  for (const f of fields) out[f] = records.reduce<number>((n, r) => n + r[f], 0)
  return out
}

/** Values summed where every one is known; null when any partition cannot tell (a trimmed stream's lag). */
export function sumKnown(values: readonly (number | null)[]): number | null {
  return values.some((v) => v === null) ? null : values.reduce<number>((n, v) => n + (v ?? 0), 0)
}

/**
 * One page, newest first, of entries each partition returned newest first (`limit + 1` each, so
 * whether more follow is known). The cursor is the entry id the page ended at: the next page
 * reads below it in every partition (an entry of another partition with that very id is skipped).
 */
export function newestFirstPage<T>(lists: readonly (readonly T[])[], entryIdOf: (item: T) => string, limit: number): { page: T[]; cursor: string | null } {
  const merged = mergeByEntryTime(lists.map((list) => [...list].reverse()), entryIdOf).reverse()
  const page = merged.slice(0, limit)
  const last = page[page.length - 1]
  return { page, cursor: merged.length > limit && last !== undefined ? entryIdOf(last) : null }
}
