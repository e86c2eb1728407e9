import { describe, expect, it } from 'vitest'
import { PoisonError, TransientError, defineConsumer, pauseConsumer, readBreaker, resumeConsumer, type Bus } from '../../src/bus/index.js'
import { testBus, waitFor } from '../support/bus.js'

const fast = { blockMs: 100, visibilityTimeoutMs: 1_000, retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 } }
const breaker = { consecutiveFailures: 3, probeBaseMs: 50, probeMaxMs: 200 }

/** Sums n per key; while `world.down`, every event fails with `world.error()`; n = 13 is poison. */
function summer(world: { down: boolean; error: () => Error }) {
  return defineConsumer({
    name: 'sum',
    subscribes: ['num.added'],
    breaker,
    handle(event, ctx) {
      const { n } = event.payload as { n: number }
      if (n === 13) throw new PoisonError(`unlucky number ${n}`)
      if (world.down) throw world.error()
      ctx.state.hincrby('sum', 'total', n)
    },
  })
}

const total = async (bus: Bus) => Number((await bus.redis.hget(bus.keys.state('sum', 'sum'), 'total')) ?? 0)
const deadLetters = (bus: Bus) => bus.redis.xlen(bus.keys.deadLetters('sum'))

describe('the breaker of a consumer', () => {
  for (const [what, error] of [
    ['a TransientError', () => new TransientError('the disk is full')],
    ['a plain error', () => new Error('the database is down')],
  ] as const) {
    it(`opens on ${what} of different events: nothing is dead-lettered, it probes, and closes once the world is right`, async () => {
      const bus = await testBus()
      const world = { down: true, error }
      const runners = bus.run([summer(world)], fast)
      await bus.publish([1, 2, 3, 4, 5, 6].map((n) => ({ type: 'num.added', key: `k${n}`, payload: { n } })))
      const open = await waitFor(async () => {
        const state = await readBreaker(bus, 'sum')
        return state.open ? state : null
      }, { what: 'the breaker to open' })
      expect(open.reason).toBe('failures')
      expect(open.lastError).toMatch(/the disk is full|the database is down/)
      // Probes keep failing for a while: no event reaches the dead letters, none is applied.
      await waitFor(async () => (await readBreaker(bus, 'sum')).open && ((await readBreaker(bus, 'sum')) as { probes: number }).probes >= 2, { what: 'failed probes' })
      expect(await deadLetters(bus)).toBe(0)
      expect(await total(bus)).toBe(0)
      world.down = false
      await waitFor(async () => (await total(bus)) === 21, { what: 'every event applied once' })
      expect((await readBreaker(bus, 'sum')).open).toBe(false)
      expect(await deadLetters(bus)).toBe(0)
      const stats = await bus.redis.hgetall(bus.keys.stats('sum'))
      expect(Number(stats.breakerOpened)).toBe(1)
      expect(Number(stats.breakerClosed)).toBe(1)
      await runners.stop()
    })
  }

  it('a poison event is dead-lettered at once (one attempt) and does not open the breaker', async () => {
    const bus = await testBus()
    const runners = bus.run([summer({ down: false, error: () => new Error('unused') })], fast)
    await bus.publish([13, 13, 13, 13, 1].map((n, i) => ({ type: 'num.added', key: `k${i}`, payload: { n } })))
    await waitFor(async () => (await deadLetters(bus)) === 4 && (await total(bus)) === 1, { what: 'four dead letters and the good event' })
    const [first] = (await bus.redis.xrange(bus.keys.deadLetters('sum'), '-', '+', 'COUNT', 1)) as [string, string[]][]
    const fields = (first as [string, string[]])[1]
    expect(fields[fields.indexOf('attempts') + 1]).toBe('1')
    expect((await readBreaker(bus, 'sum')).open).toBe(false)
    expect((await bus.redis.hgetall(bus.keys.stats('sum'))).breakerOpened).toBeUndefined()
    await runners.stop()
  })

  it('pause by hand holds every event, survives a restart, and only resume lets them through', async () => {
    const bus = await testBus()
    const consumer = summer({ down: false, error: () => new Error('unused') })
    expect((await pauseConsumer(bus, 'sum')).changed).toBe(true)
    const first = bus.run([consumer], fast)
    await bus.publish([1, 2].map((n) => ({ type: 'num.added', key: `k${n}`, payload: { n } })))
    // The runner is up and reading its breaker, yet nothing is applied while paused.
    await waitFor(async () => (await bus.redis.hexists(bus.keys.consumers, 'sum')) === 1, { what: 'the runner registered' })
    await first.stop()
    const second = bus.run([consumer], fast)
    const state = await readBreaker(bus, 'sum')
    expect(state).toMatchObject({ open: true, reason: 'manual', nextProbeAt: null })
    expect(await total(bus)).toBe(0)
    expect((await resumeConsumer(bus, 'sum')).changed).toBe(true)
    await waitFor(async () => (await total(bus)) === 3, { what: 'both events applied after resume' })
    expect((await resumeConsumer(bus, 'sum')).changed).toBe(false)
    await second.stop()
  })
})
