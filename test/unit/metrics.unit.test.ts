import { expect, it } from 'vitest'
import { RunnerMetrics } from '../../src/bus/metrics.js'

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
  expect(metrics.snapshot().p99Ms).toBe(5)
  now = 60_000 // a long quiet spell: nothing recent
  expect(metrics.snapshot().p99Ms).toBe(0)
  expect(metrics.latency.totalCount).toBe(210)
})
