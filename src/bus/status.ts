import { parseBreaker, type BreakerState } from './breaker.js'
import type { Bus } from './bus.js'
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
}

/** Counters and per-group lag of each consumer, in two pipelined round trips. */
export async function consumerStatus(bus: Bus, consumers: readonly { name: string; subscribes: readonly string[] }[]): Promise<ConsumerStatus[]> {
  const p = bus.redis.pipeline()
  for (const c of consumers) {
    p.hgetall(bus.keys.stats(c.name))
    p.xlen(bus.keys.deadLetters(c.name))
    p.hgetall(bus.keys.breaker(c.name))
    for (const type of c.subscribes) p.xinfo('GROUPS', bus.keys.stream(type))
  }
  const replies = (await p.exec()) ?? []
  let i = 0
  return consumers.map((c) => {
    const stats = (replies[i++]?.[1] ?? {}) as Record<string, string>
    const backlog = Number(replies[i++]?.[1] ?? 0)
    const breaker = parseBreaker((replies[i++]?.[1] ?? {}) as Record<string, string>)
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
    }
  })
}
