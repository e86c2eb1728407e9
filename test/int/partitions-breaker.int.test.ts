import { describe, expect, it } from 'vitest'
import { TransientError, defineConsumer, partitionBus, partitionOf, pauseConsumer, readBreaker, resumeConsumer, type Bus } from '../../src/bus/index.js'
import { readPartitionBreaker } from '../../src/bus/breaker.js'
import { testBus, waitFor } from '../support/bus.js'

const P = 4
const fast = { blockMs: 100, visibilityTimeoutMs: 1_000, retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 } }

/** Sums n per partition; the handler of partition 0's keys keeps failing (its dependency is down). */
const summer = defineConsumer({
  name: 'sum',
  subscribes: ['num.added'],
  breaker: { consecutiveFailures: 3, probeBaseMs: 50, probeMaxMs: 200 },
  handle(event, ctx) {
    if (partitionOf(event.key, P) === 0) throw new TransientError('the disk of partition 0 is full')
    ctx.state.hincrby('sum', 'count', 1)
  },
})

async function counted(bus: Bus): Promise<number> {
  let sum = 0
  for (const keys of bus.partitions) sum += Number((await bus.redis.hget(keys.state('sum', 'sum'), 'count')) ?? 0)
  return sum
}

describe('breakers per partition', () => {
  it("a partition whose handler keeps failing pauses that partition only; pause and resume act on every partition", async () => {
    const bus = await testBus({ partitions: P })
    const run = bus.run([summer], fast)
    try {
      const keys = Array.from({ length: 40 }, (_, i) => `k${i}`)
      const healthy = keys.filter((k) => partitionOf(k, P) !== 0).length
      expect(healthy).toBeLessThan(keys.length)
      await bus.publish(keys.map((key) => ({ type: 'num.added', key, payload: {} })))
      const open = await waitFor(async () => {
        const state = await readBreaker(bus, 'sum')
        return state.open ? state : null
      }, { what: 'the breaker to open' })
      expect(open.partitions).toEqual([0])
      // The other partitions go on.
      await waitFor(async () => (await counted(bus)) === healthy, { what: 'every healthy event' })
      for (let p = 1; p < P; p++) expect((await readPartitionBreaker(partitionBus(bus, p), 'sum')).open).toBe(false)

      expect((await pauseConsumer(bus, 'sum')).state).toMatchObject({ open: true, partitions: [0, 1, 2, 3] })
      for (let p = 0; p < P; p++) expect(await readPartitionBreaker(partitionBus(bus, p), 'sum')).toMatchObject({ open: true, reason: 'manual' })
      expect((await resumeConsumer(bus, 'sum')).state.open).toBe(false)
    } finally {
      await run.stop()
    }
  })
})
