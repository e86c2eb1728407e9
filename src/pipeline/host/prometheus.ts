import { Counter, Gauge, Registry, Summary } from 'prom-client'
import type { RunnerMetrics, RunnerSnapshot } from '../../bus/metrics.js'
import type { ConsumerStatus } from '../../bus/status.js'
import type { RelayLag } from '../../bus/partition-relay.js'
import type { RelayFigures } from '../../outbox/relay.js'

export interface MetricsSources {
  /** Counters, lag and pending of every consumer, from Redis (all processes). */
  readonly status: () => Promise<readonly ConsumerStatus[]>
  /** The runners of this process now (a reload replaces some), for stage latency. */
  readonly runners: () => readonly { readonly stage: string; readonly metrics: RunnerMetrics }[]
  /** The outbox relay's figures, when this host runs one. */
  readonly outbox?: () => Promise<RelayFigures | null>
  /** With P > 1 partitions: each partition's outbox of emits across partitions. */
  readonly partitionOutbox?: () => Promise<readonly RelayLag[]>
}

interface Family<V> {
  readonly name: string
  readonly help: string
  readonly value: (s: ConsumerStatus) => V
}

const COUNTERS: readonly Family<number>[] = [
  { name: 'eventspine_consumer_handled_total', help: 'Events committed by the consumer (all processes).', value: (s) => s.handled },
  { name: 'eventspine_consumer_duplicates_total', help: 'Redelivered events acknowledged without effect.', value: (s) => s.duplicates },
  { name: 'eventspine_consumer_retries_total', help: 'Failed attempts that were retried.', value: (s) => s.retries },
  { name: 'eventspine_consumer_dead_lettered_total', help: 'Events moved to the dead-letter stream.', value: (s) => s.deadLettered },
  { name: 'eventspine_consumer_breaker_opened_total', help: 'Times the consumer breaker opened (failures of different events, or pipeline pause).', value: (s) => s.breakerOpened },
]

const GAUGES: readonly Family<number | null>[] = [
  // Null lag (Redis cannot tell after trims) leaves the sample out rather than reporting 0.
  { name: 'eventspine_consumer_lag', help: 'Entries not yet delivered to the consumer group.', value: (s) => s.lag },
  { name: 'eventspine_consumer_pending', help: 'Entries delivered but not yet acknowledged.', value: (s) => s.pending },
  { name: 'eventspine_consumer_dead_letter_backlog', help: 'Entries waiting in the dead-letter stream.', value: (s) => s.deadLetterBacklog },
  { name: 'eventspine_consumer_breaker_open', help: 'Consumer breaker: 1 open (paused: takes no events but a probe), 0 closed.', value: (s) => (s.breaker.open ? 1 : 0) },
]

/**
 * The registry behind `/metrics`, one per pipeline host (never prom-client's global one, so two
 * hosts in a process keep apart). Every value is read at scrape time; nothing is pushed per event.
 */
export function metricsRegistry(sources: MetricsSources): Registry {
  const registry = new Registry()
  // A scrape collects every family at once: they share one read of Redis.
  let reading: Promise<readonly ConsumerStatus[]> | null = null
  const status = () => (reading ??= sources.status().finally(() => (reading = null)))
  for (const c of COUNTERS) {
    new Counter({
      name: c.name,
      help: c.help,
      labelNames: ['consumer'],
      registers: [registry],
      // Redis holds the totals: the counter is set to them, not counted up here.
      async collect() {
        const consumers = await status()
        this.reset()
        for (const s of consumers) this.inc({ consumer: s.consumer }, c.value(s))
      },
    })
  }
  for (const g of GAUGES) {
    new Gauge({
      name: g.name,
      help: g.help,
      labelNames: ['consumer'],
      registers: [registry],
      async collect() {
        const consumers = await status()
        this.reset()
        for (const s of consumers) {
          const value = g.value(s)
          if (value !== null) this.set({ consumer: s.consumer }, value)
        }
      },
    })
  }
  new StageLatency(registry, sources.runners)
  if (sources.outbox !== undefined) outboxFamilies(registry, sources.outbox)
  if (sources.partitionOutbox !== undefined) partitionOutboxFamilies(registry, sources.partitionOutbox)
  return registry
}

/** The outbox relay's lag (rows waiting, age of the oldest) and rate, one read of Postgres per scrape. */
function outboxFamilies(registry: Registry, figures: () => Promise<RelayFigures | null>): void {
  let reading: Promise<RelayFigures | null> | null = null
  const read = () => (reading ??= figures().finally(() => (reading = null)))
  const families: readonly { name: string; help: string; counter?: true; value: (f: RelayFigures) => number }[] = [
    { name: 'eventspine_outbox_backlog', help: 'Outbox rows not yet relayed into the streams (all relays).', value: (f) => f.backlog },
    { name: 'eventspine_outbox_lag_seconds', help: 'Age of the oldest outbox row not yet relayed; 0 when none waits.', value: (f) => f.lagSeconds },
    { name: 'eventspine_outbox_rows_per_second', help: 'Rows this relay published per second over the last 10 s.', value: (f) => f.perSecond },
    { name: 'eventspine_outbox_published_total', help: 'Rows this relay published since it started.', counter: true, value: (f) => f.published },
    { name: 'eventspine_outbox_dead_lettered_total', help: 'Rows in the outbox dead-letter table (all relays).', counter: true, value: (f) => f.deadLettered },
  ]
  for (const family of families) {
    const Kind = family.counter ? Counter : Gauge
    new Kind({
      name: family.name,
      help: family.help,
      registers: [registry],
      async collect() {
        const f = await read().catch(() => null)
        this.reset()
        if (f === null) return
        if (this instanceof Counter) this.inc(family.value(f))
        else (this as Gauge).set(family.value(f))
      },
    })
  }
}

/** The partition relay's lag per partition: entries waiting in its outbox, age of the oldest. */
function partitionOutboxFamilies(registry: Registry, lag: () => Promise<readonly RelayLag[]>): void {
  for (const family of [
    { name: 'eventspine_partition_outbox_waiting', help: 'Emits across partitions waiting in this partition\'s outbox for the relay.', value: (l: RelayLag) => l.waiting },
    { name: 'eventspine_partition_outbox_oldest_seconds', help: 'Age of the oldest emit waiting in this partition\'s outbox; 0 when none waits.', value: (l: RelayLag) => l.oldestAgeMs / 1000 },
  ]) {
    new Gauge({
      name: family.name,
      help: family.help,
      labelNames: ['partition'],
      registers: [registry],
      async collect() {
        const rows = await lag().catch(() => [])
        this.reset()
        for (const l of rows) this.set({ partition: String(l.partition) }, family.value(l))
      },
    })
  }
}

/** A quantile of no commits is NaN: Prometheus's word for "no value", never 0. */
const latencySeconds = (ms: number | null): number => (ms === null ? Number.NaN : ms / 1000)

const QUANTILES = [
  { quantile: 0.5, of: (r: RunnerSnapshot) => r.p50Ms },
  { quantile: 0.99, of: (r: RunnerSnapshot) => r.p99Ms },
] as const

/**
 * Stage latency as a Prometheus summary: the runner's own p50/p99 (the dashboard's, over the last
 * 10 to 20 s; NaN when nothing was committed then), with count and sum since start. prom-client's
 * Summary reports only what it observed itself; reading the runner's figures at scrape time
 * spares observing every commit twice.
 */
class StageLatency extends Summary<'consumer' | 'quantile'> {
  constructor(
    registry: Registry,
    private readonly runners: MetricsSources['runners'],
  ) {
    super({
      name: 'eventspine_stage_latency_seconds',
      help: 'Stage latency (publish of the input event to commit) in this process.',
      labelNames: ['consumer'],
      percentiles: QUANTILES.map((q) => q.quantile),
      registers: [registry],
    })
  }

  override async get(): ReturnType<Summary<'consumer' | 'quantile'>['get']> {
    const base = await super.get() // name, help and type; no values, as nothing is observed
    const values = this.runners().flatMap(({ stage, metrics }) => {
      const r = metrics.snapshot()
      return [
        ...QUANTILES.map((q) => ({ labels: { consumer: stage, quantile: q.quantile }, value: latencySeconds(q.of(r)) })),
        { metricName: `${base.name}_sum`, labels: { consumer: stage }, value: r.latencySumMs / 1000 },
        { metricName: `${base.name}_count`, labels: { consumer: stage }, value: r.commits },
      ]
    })
    return { ...base, values }
  }
}
