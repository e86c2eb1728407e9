import { eachPartition, sumCounts, sumKnown } from './across.js'
import { parseBreaker, type BreakerState } from './breaker.js'
import type { Bus } from './bus.js'
import { leaseHolder } from './lease.js'
import { toRecord } from './reader.js'

export interface StreamGroupStatus {
  readonly stream: string
  /** Entries not yet delivered to the group (null when Redis cannot tell). */
  readonly lag: number | null
  /** Delivered, not yet acknowledged. */
  readonly pending: number
}

export interface ConsumerStatus {
  readonly consumer: string
  readonly handled: number
  readonly duplicates: number
  readonly retries: number
  readonly deadLettered: number
  /** Times the breaker opened (by failures or by hand). */
  readonly breakerOpened: number
  /** The breaker now: open (paused) with its last error, since and next probe, or closed. */
  readonly breaker: BreakerState
  /** Entries waiting in the dead-letter stream now. */
  readonly deadLetterBacklog: number
  /** Summed over the streams read; null when Redis cannot tell for one of them (after trims). */
  readonly lag: number | null
  readonly pending: number
  readonly streams: readonly StreamGroupStatus[]
  /** With more than one partition: each partition's figures and owner (absent with one, as before partitions). */
  readonly partitions?: readonly PartitionStatus[]
}

/** One partition of a consumer (namespaces of more than one partition). */
export interface PartitionStatus {
  readonly partition: number
  /** The instance holding the partition's lease; null when none does (unowned). */
  readonly owner: string | null
  readonly handled: number
  readonly deadLetterBacklog: number
  readonly breakerOpen: boolean
  readonly lag: number | null
  readonly pending: number
  readonly streams: readonly StreamGroupStatus[]
}

type Consumers = readonly { name: string; subscribes: readonly string[] }[]
const COUNTERS = ['handled', 'duplicates', 'retries', 'deadLettered', 'breakerOpened', 'deadLetterBacklog', 'pending'] as const

/**
 * Counters and per-group lag of each consumer, in one pipelined round trip per partition (in
 * parallel), summed over partitions. The breaker is the first open one: a consumer is paused
 * where any partition's breaker is open (`partitions` says which).
 */
export async function consumerStatus(bus: Bus, consumers: Consumers): Promise<ConsumerStatus[]> {
  if (bus.partitionCount === 1) return (await partitionStatus(bus, consumers, false)).map(({ owner: _owner, ...c }) => c)
  const byPartition = await eachPartition(bus, (partition) => partitionStatus(partition, consumers, true))
  return consumers.map((c, i) => {
    const parts = byPartition.map((statuses) => statuses[i] as ConsumerStatus & { owner: string | null })
    const streams = c.subscribes.map((stream, s): StreamGroupStatus => ({
      stream,
      lag: sumKnown(parts.map((x) => (x.streams[s] === undefined ? 0 : (x.streams[s] as StreamGroupStatus).lag))),
      pending: parts.reduce((n, x) => n + (x.streams[s]?.pending ?? 0), 0),
    }))
    return {
      consumer: c.name,
      ...sumCounts(parts, COUNTERS),
      breaker: parts.find((x) => x.breaker.open)?.breaker ?? parts[0]?.breaker ?? { open: false },
      lag: sumKnown(parts.map((x) => x.lag)),
      streams,
      partitions: parts.map((x, partition) => ({
        partition, owner: x.owner, handled: x.handled, deadLetterBacklog: x.deadLetterBacklog, breakerOpen: x.breaker.open, lag: x.lag, pending: x.pending, streams: x.streams,
      })),
    }
  })
}

/** One partition's figures in one pipeline; with `owners`, the holder of each consumer's lease too. */
async function partitionStatus(bus: Bus, consumers: Consumers, owners: boolean): Promise<(ConsumerStatus & { owner: string | null })[]> {
  const p = bus.redis.pipeline()
  for (const c of consumers) {
    p.hgetall(bus.keys.stats(c.name))
    p.xlen(bus.keys.deadLetters(c.name))
    p.hgetall(bus.keys.breaker(c.name))
    if (owners) p.get(bus.keys.lease(c.name))
    for (const type of c.subscribes) p.xinfo('GROUPS', bus.keys.stream(type))
  }
  const replies = (await p.exec()) ?? []
  let i = 0
  return consumers.map((c) => {
    const stats = (replies[i++]?.[1] ?? {}) as Record<string, string>
    const backlog = Number(replies[i++]?.[1] ?? 0)
    const breaker = parseBreaker((replies[i++]?.[1] ?? {}) as Record<string, string>)
    const lease = owners ? (replies[i++]?.[1] as string | null | undefined) : null
    const streams = c.subscribes.map((type): StreamGroupStatus => {
      const [error, groups] = replies[i++] ?? [null, []]
      const g = error ? undefined : ((groups as unknown[][]).map(toRecord).find((x) => x.name === bus.keys.group(c.name)))
      return { stream: type, lag: g?.lag === null || g?.lag === undefined ? (g ? null : 0) : Number(g.lag), pending: Number(g?.pending ?? 0) }
    })
    return {
      consumer: c.name,
      handled: Number(stats.handled ?? 0),
      duplicates: Number(stats.duplicates ?? 0),
      retries: Number(stats.retries ?? 0),
      deadLettered: Number(stats.deadLettered ?? 0),
      breakerOpened: Number(stats.breakerOpened ?? 0),
      breaker,
      deadLetterBacklog: backlog,
      lag: streams.some((s) => s.lag === null) ? null : streams.reduce((a, s) => a + (s.lag ?? 0), 0),
      pending: streams.reduce((a, s) => a + s.pending, 0),
      streams,
      owner: lease ? leaseHolder(lease) || lease : null,
    }
  })
}
