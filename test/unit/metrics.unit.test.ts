import { describe, expect, it } from 'vitest'
import { RunnerMetrics } from '../../src/bus/metrics.js'
import type { ConsumerStatus } from '../../src/bus/status.js'
import { metricsRegistry } from '../../src/pipeline/host/prometheus.js'

it('reports the latency of recent commits, not of the whole run', () => {
  let now = 0
  const metrics = new RunnerMetrics(() => now)
  for (let i = 0; i < 100; i++) metrics.recordCommit(500)
  expect(metrics.snapshot().p99Ms).toBeGreaterThanOrEqual(495)
  now = 12_000 // one window later: the slow commits are still recent
  for (let i = 0; i < 100; i++) metrics.recordCommit(5)
  expect(metrics.snapshot().p99Ms).toBeGreaterThanOrEqual(495)
  now = 23_000 // two windows later: only the fast ones remain
  for (let i = 0; i < 10; i++) metrics.recordCommit(5)
  expect(metrics.snapshot()).toMatchObject({ p99Ms: 5, recentCommits: 110 })
  now = 60_000 // a long quiet spell: nothing recent, which is no latency at all, not 0 ms
  expect(metrics.snapshot()).toMatchObject({ p50Ms: null, p99Ms: null, recentCommits: 0, commits: 210, latencySumMs: 100 * 500 + 110 * 5 })
  expect(metrics.latency.totalCount).toBe(210)
})

function status(consumer: string, overrides: Partial<ConsumerStatus> = {}): ConsumerStatus {
  return { consumer, handled: 0, duplicates: 0, retries: 0, deadLettered: 0, breakerOpened: 0, breaker: { open: false }, deadLetterBacklog: 0, lag: 0, pending: 0, streams: [], ...overrides }
}

describe('the /metrics registry', () => {
  it('counters and gauges from the consumer status, latency as a summary from the runners', async () => {
    const deliver = new RunnerMetrics(() => 0)
    for (let i = 0; i < 98; i++) deliver.recordCommit(20)
    for (let i = 0; i < 2; i++) deliver.recordCommit(400)
    const consumers = [
      status('validate', { handled: 7, retries: 2, duplicates: 1, deadLettered: 1, deadLetterBacklog: 1, lag: null, pending: 3 }),
      status('deliver', { handled: 100, lag: 4, breakerOpened: 2, breaker: { open: true, reason: 'failures', since: 0, lastError: 'disk full', nextProbeAt: 1_000, probes: 1 } }),
    ]
    let reads = 0
    const registry = metricsRegistry({ status: async () => (reads++, consumers), runners: () => [{ stage: 'deliver', metrics: deliver }, { stage: 'score', metrics: new RunnerMetrics() }] })
    const lines = (await registry.metrics()).split('\n')

    expect(lines).toEqual(
      expect.arrayContaining([
        '# TYPE eventspine_consumer_handled_total counter',
        'eventspine_consumer_handled_total{consumer="validate"} 7',
        'eventspine_consumer_handled_total{consumer="deliver"} 100',
        'eventspine_consumer_retries_total{consumer="validate"} 2',
        'eventspine_consumer_duplicates_total{consumer="validate"} 1',
        'eventspine_consumer_breaker_opened_total{consumer="deliver"} 2',
        'eventspine_consumer_breaker_open{consumer="deliver"} 1',
        'eventspine_consumer_breaker_open{consumer="validate"} 0',
        'eventspine_consumer_dead_lettered_total{consumer="validate"} 1',
        '# TYPE eventspine_consumer_lag gauge',
        'eventspine_consumer_lag{consumer="deliver"} 4',
        'eventspine_consumer_pending{consumer="validate"} 3',
        'eventspine_consumer_dead_letter_backlog{consumer="validate"} 1',
        '# TYPE eventspine_stage_latency_seconds summary',
        'eventspine_stage_latency_seconds{consumer="deliver",quantile="0.5"} 0.02',
        'eventspine_stage_latency_seconds_sum{consumer="deliver"} 2.76',
        'eventspine_stage_latency_seconds_count{consumer="deliver"} 100',
        // A runner with nothing committed yet: no quantile to tell, count and sum zero.
        'eventspine_stage_latency_seconds{consumer="score",quantile="0.99"} Nan',
        'eventspine_stage_latency_seconds_count{consumer="score"} 0',
      ]),
    )
    expect(lines.find((l) => l.startsWith('eventspine_stage_latency_seconds{consumer="deliver",quantile="0.99"}'))).toMatch(/ 0\.40\d*$/)
    // Lag Redis cannot tell is left out, not reported as 0.
    expect(lines.some((l) => l.startsWith('eventspine_consumer_lag{consumer="validate"}'))).toBe(false)
    expect(reads, 'one read of Redis per scrape').toBe(1)
  })

  it('reads the figures at scrape time, one registry per host', async () => {
    let handled = 1
    const one = metricsRegistry({ status: async () => [status('deliver', { handled })], runners: () => [] })
    const two = metricsRegistry({ status: async () => [status('deliver', { handled: 50 })], runners: () => [] })
    expect(await one.metrics()).toContain('eventspine_consumer_handled_total{consumer="deliver"} 1\n')
    handled = 2
    expect(await one.metrics()).toContain('eventspine_consumer_handled_total{consumer="deliver"} 2\n')
    expect(await two.metrics()).toContain('eventspine_consumer_handled_total{consumer="deliver"} 50\n')
  })
})
