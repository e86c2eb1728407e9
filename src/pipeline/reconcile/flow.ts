import { eachPartition, sumKnown } from '../../bus/across.js'
import type { Bus } from '../../bus/index.js'
import { toRecord } from '../../bus/reader.js'

/** One stream: what producers appended against what each group acknowledged, has pending and has yet to read. */
export interface StreamFlow {
  readonly stream: string
  readonly appended: number
  readonly groups: readonly { readonly consumer: string; readonly acknowledged: number; readonly pending: number; readonly lag: number | null }[]
}

/** One consumer: what it read against what it committed, dead-lettered and has pending. */
export interface ConsumerFlow {
  readonly consumer: string
  readonly read: number
  /** Applied (handled) and skipped as already applied (duplicates). */
  readonly committed: number
  readonly deadLettered: number
  readonly pending: number
  /** read - committed - deadLettered - pending: 0 when every entry read is accounted for. */
  readonly unaccounted: number
}

export interface FlowReconciliation {
  readonly streams: readonly StreamFlow[]
  readonly consumers: readonly ConsumerFlow[]
  readonly problems: readonly string[]
}

/**
 * Since each stream and group began (Redis's own counters: `entries-added`, `entries-read`,
 * `lag`, `pending`; the consumer's `stats` hash): per stream appended = acknowledged + pending +
 * lag for every group, per consumer read = committed + dead-lettered + pending. Each partition
 * is its own streams, groups and counters: checked alone (a problem names its partition), and
 * the figures summed.
 */
export async function reconcileFlow(bus: Bus, consumers: Consumers): Promise<FlowReconciliation> {
  if (bus.partitionCount === 1) return partitionFlow(bus, consumers)
  const each = await eachPartition(bus, (view) => partitionFlow(view, consumers))
  const streams = new Map<string, { appended: number; groups: Map<string, StreamFlow['groups'][number][]> }>()
  for (const flow of each) {
    for (const s of flow.streams) {
      const held = streams.get(s.stream) ?? { appended: 0, groups: new Map() }
      streams.set(s.stream, held)
      held.appended += s.appended
      for (const g of s.groups) held.groups.set(g.consumer, [...(held.groups.get(g.consumer) ?? []), g])
    }
  }
  const sum = <T>(list: readonly T[], of: (t: T) => number) => list.reduce((n, t) => n + of(t), 0)
  return {
    streams: [...streams].sort(([a], [b]) => a.localeCompare(b)).map(([stream, s]) => ({
      stream,
      appended: s.appended,
      groups: [...s.groups].map(([consumer, gs]) => ({ consumer, acknowledged: sum(gs, (g) => g.acknowledged), pending: sum(gs, (g) => g.pending), lag: sumKnown(gs.map((g) => g.lag)) })),
    })),
    consumers: consumers.flatMap((c) => {
      const parts = each.flatMap((flow) => flow.consumers.filter((x) => x.consumer === c.name))
      if (parts.length === 0) return []
      return [{ consumer: c.name, read: sum(parts, (x) => x.read), committed: sum(parts, (x) => x.committed), deadLettered: sum(parts, (x) => x.deadLettered), pending: sum(parts, (x) => x.pending), unaccounted: sum(parts, (x) => x.unaccounted) }]
    }),
    problems: each.flatMap((flow, p) => flow.problems.map((problem) => `partition ${p}: ${problem}`)),
  }
}

type Consumers = readonly { readonly name: string; readonly subscribes: readonly string[] }[]

async function partitionFlow(bus: Bus, consumers: Consumers): Promise<FlowReconciliation> {
  const problems: string[] = []
  const types = [...new Set(consumers.flatMap((c) => c.subscribes))].sort()
  const readBy = new Map<string, { read: number; pending: number }>()
  const streams: StreamFlow[] = []
  for (const type of types) {
    const key = bus.keys.stream(type)
    if ((await bus.redis.exists(key)) === 0) continue
    const info = toRecord((await bus.redis.xinfo('STREAM', key)) as unknown[])
    const appended = Number(info['entries-added'] ?? 0)
    const groups = ((await bus.redis.xinfo('GROUPS', key)) as unknown[][]).map(toRecord).map((g) => {
      const read = Number(g['entries-read'] ?? 0)
      const pending = Number(g.pending ?? 0)
      const lag = g.lag === null || g.lag === undefined ? null : Number(g.lag)
      return { consumer: String(g.name), read, pending, lag }
    })
    for (const g of groups) {
      const mine = readBy.get(g.consumer) ?? { read: 0, pending: 0 }
      readBy.set(g.consumer, { read: mine.read + g.read, pending: mine.pending + g.pending })
      if (g.lag !== null && g.read + g.lag !== appended) problems.push(`${type}: ${appended} appended, but ${g.consumer} acknowledged ${g.read - g.pending}, has ${g.pending} pending and ${g.lag} to read`)
    }
    streams.push({ stream: type, appended, groups: groups.map((g) => ({ consumer: g.consumer, acknowledged: g.read - g.pending, pending: g.pending, lag: g.lag })) })
  }
  const out: ConsumerFlow[] = []
  for (const c of consumers) {
    const counts = readBy.get(c.name)
    if (!counts) continue
    const stats = await bus.redis.hgetall(bus.keys.stats(c.name))
    const committed = Number(stats.handled ?? 0) + Number(stats.duplicates ?? 0)
    const deadLettered = Number(stats.deadLettered ?? 0)
    const unaccounted = counts.read - committed - deadLettered - counts.pending
    if (unaccounted !== 0) problems.push(`${c.name}: read ${counts.read}, committed ${committed}, dead-lettered ${deadLettered}, ${counts.pending} pending: ${Math.abs(unaccounted)} ${unaccounted > 0 ? 'unaccounted for' : 'counted twice'}`)
    out.push({ consumer: c.name, read: counts.read, committed, deadLettered, pending: counts.pending, unaccounted })
  }
  return { streams, consumers: out, problems }
}
