import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { defineConsumer, replayConsumer, type ConsumerDefinition } from '../../src/bus/index.js'
import { cancelRebuild, rebuildOnline } from '../../src/bus/rebuild.js'
import { testBus, waitFor } from '../support/bus.js'

const fast = { blockMs: 100, visibilityTimeoutMs: 1_000, retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 } }

/**
 * A projection: per key, the count of events, the sum of n times `factor` (its "version") and the
 * highest n seen (a read-modify-write; independent of the order across the two streams, which the
 * live runner does not keep).
 */
function totals(logic: { factor: number }): ConsumerDefinition {
  return defineConsumer({
    name: 'totals',
    subscribes: ['num.added', 'num.removed'],
    async handle(event, ctx) {
      const { n } = event.payload as { n: number }
      const highest = await ctx.state.get(`last:${event.key}`)
      ctx.state.hincrby('sum', event.key, (event.type === 'num.removed' ? -n : n) * logic.factor)
      ctx.state.hincrby('count', event.key, 1)
      if (highest === null || Number(highest) < n) ctx.state.set(`last:${event.key}`, String(n))
    },
  })
}

const KEYS = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6']

function event(n: number) {
  return { type: n % 4 === 0 ? 'num.removed' : 'num.added', key: KEYS[n % KEYS.length] as string, payload: { n } }
}

describe('an online rebuild (replay --rebuild while the consumer runs)', () => {
  it('rebuilds while events flow: no read sees a missing key, the proof passes and the swap is one step', async () => {
    const bus = await testBus()
    const runners = bus.run([totals({ factor: 1 })], fast)
    let n = 0
    await bus.publish(Array.from({ length: 300 }, () => event(++n)))
    await waitFor(async () => Number(await bus.redis.hget(bus.keys.state('totals', 'count'), 'k0')) > 0, { what: 'live state' })

    // Files keep flowing, and a reader keeps reading every key the live projection serves.
    let flowing = true
    const publisher = (async () => {
      while (flowing) {
        await bus.publish(Array.from({ length: 5 }, () => event(++n)))
        await sleep(5)
      }
    })()
    const missing: string[] = []
    let reads = 0
    const reader = (async () => {
      const client = bus.connect()
      while (flowing) {
        const p = client.pipeline()
        for (const k of KEYS) p.hget(bus.keys.state('totals', 'sum'), k).hget(bus.keys.state('totals', 'count'), k).get(bus.keys.state('totals', `last:${k}`))
        const replies = (await p.exec()) ?? []
        replies.forEach(([, v], i) => v === null && missing.push(`${KEYS[Math.floor(i / 3)]} #${i % 3}`))
        reads++
      }
      client.disconnect()
    })()

    const liveToken = await bus.redis.get(bus.keys.lease('totals'))
    let fencedBy: string | null = null
    const summary = await replayConsumer(bus, {
      consumer: totals({ factor: 1 }),
      rebuild: true,
      batchSize: 50,
      fenced: async () => void (fencedBy = await bus.redis.get(bus.keys.lease('totals'))),
    })
    // The rebuild held the lease for the proof and the swap, then handed it back to the live instance.
    expect(liveToken).not.toBeNull()
    expect(fencedBy).not.toBe(liveToken)
    expect(await bus.redis.get(bus.keys.lease('totals'))).toBe(liveToken)
    flowing = false
    await Promise.all([publisher, reader])
    expect(missing).toEqual([])
    expect(reads).toBeGreaterThan(0)
    expect(summary.failed).toBe(0)
    expect(summary.online?.proof).toMatchObject({ equal: true, swapped: true, deleted: 0 })
    const { comparison } = summary.online?.proof ?? { comparison: undefined }
    expect(comparison).toMatchObject({ differing: 0, differences: [] })
    expect(comparison?.leftRows).toBe(KEYS.length * 3)
    expect(comparison?.equalRows).toBe(KEYS.length * 3)
    // No bookkeeping or shadow left; the live consumer goes on after the swap and sees everything once.
    expect(await bus.redis.exists(bus.keys.replayRun('totals'))).toBe(0)
    expect(await bus.redis.keys(`${bus.keys.shadowStatePrefix('totals').replace(/[{}]/g, '\\$&')}*`)).toEqual([])
    await waitFor(async () => Number(await bus.redis.hget(bus.keys.state('totals', 'count'), 'k0')) + Number(await bus.redis.hget(bus.keys.state('totals', 'count'), 'k1')) > 0 && (await countAll(bus)) === n, { what: 'every event counted once' })
    await runners.stop()
    const expected: Record<string, number> = {}
    for (let i = 1; i <= n; i++) {
      const e = event(i)
      expected[e.key] = (expected[e.key] ?? 0) + (e.type === 'num.removed' ? -i : i)
    }
    expect(Object.fromEntries(Object.entries(await bus.redis.hgetall(bus.keys.state('totals', 'sum'))).map(([k, v]) => [k, Number(v)]))).toEqual(expected)
  })

  it('a rebuild whose result differs swaps nothing and lists the difference by key', async () => {
    const bus = await testBus()
    const runners = bus.run([totals({ factor: 1 })], fast)
    await bus.publish([1, 2, 3, 5].map(event))
    await waitFor(async () => (await countAll(bus)) === 4, { what: 'live state' })
    const before = await bus.redis.hgetall(bus.keys.state('totals', 'sum'))
    // The projection's new version multiplies: the proof must catch it.
    const summary = await replayConsumer(bus, { consumer: totals({ factor: 2 }), rebuild: true })
    expect(summary.online?.proof).toMatchObject({ equal: false, swapped: false, renamed: 0 })
    expect(summary.online?.proof.comparison.differences).toEqual([
      { key: 'sum[k1]', left: '1', right: '2' },
      { key: 'sum[k2]', left: '2', right: '4' },
      { key: 'sum[k3]', left: '3', right: '6' },
      { key: 'sum[k5]', left: '5', right: '10' },
    ])
    expect(await bus.redis.hgetall(bus.keys.state('totals', 'sum'))).toEqual(before)
    expect(await bus.redis.keys(`${bus.keys.shadowStatePrefix('totals').replace(/[{}]/g, '\\$&')}*`)).toEqual([])
    await runners.stop()
  })

  it('an interrupted online rebuild resumes (applying nothing twice) or is cancelled, and the live consumer is not left fenced', async () => {
    const bus = await testBus()
    const runners = bus.run([totals({ factor: 1 })], fast)
    await bus.publish(Array.from({ length: 40 }, (_, i) => event(i + 1)))
    await waitFor(async () => (await countAll(bus)) === 40, { what: 'live state' })
    let committed = 0
    const interrupted = replayConsumer(bus, {
      consumer: totals({ factor: 1 }),
      rebuild: true,
      batchSize: 10,
      beforeCommit: (batch) => {
        if (committed + batch.length > 15) throw new Error('interrupted')
        committed += batch.length
      },
    })
    await expect(interrupted).rejects.toThrow('interrupted')
    expect(await bus.redis.exists(bus.keys.replayRun('totals'))).toBe(1)
    // A window replay is refused while the rebuild is unfinished.
    await expect(replayConsumer(bus, { consumer: totals({ factor: 1 }), since: 60_000 })).rejects.toMatchObject({ code: 'E_REPLAY_UNFINISHED' })

    const resumed = await replayConsumer(bus, { consumer: totals({ factor: 1 }), rebuild: true, batchSize: 10 })
    expect(resumed).toMatchObject({ resumed: true, applied: 40 - committed, online: { proof: { equal: true, swapped: true } } })

    // Interrupted once more, then cancelled: the shadow goes, the live state stays, the consumer goes on.
    await expect(replayConsumer(bus, { consumer: totals({ factor: 1 }), rebuild: true, beforeCommit: () => Promise.reject(new Error('interrupted')) })).rejects.toThrow('interrupted')
    const cancelled = await cancelRebuild(bus, 'totals')
    expect(cancelled.cancelled).toMatch(/^rebuild \(online\), run /)
    expect(cancelled.droppedShadowKeys).toBe(0) // nothing was committed into it
    expect(await bus.redis.exists(bus.keys.replayRun('totals'))).toBe(0)
    await bus.publish([event(41)])
    await waitFor(async () => (await countAll(bus)) === 41, { what: 'the live consumer goes on' })
    await runners.stop()
  })
})

describe('snapshots (snapshotEvery)', () => {
  it('a rebuild saves snapshots; the next starts from the latest and reads only the tail; from snapshot and from zero both equal live', async () => {
    const bus = await testBus()
    const projection = { ...totals({ factor: 1 }), snapshotEvery: 50 }
    const runners = bus.run([projection], fast)
    await bus.publish(Array.from({ length: 200 }, (_, i) => event(i + 1)))
    await waitFor(async () => (await countAll(bus)) === 200, { what: 'live state' })

    const first = await replayConsumer(bus, { consumer: projection, rebuild: true, batchSize: 25 })
    expect(first.online).toMatchObject({ fromSnapshot: null, proof: { equal: true, swapped: true } })
    expect(first.online?.snapshots).toBe(4)
    expect(first.events).toBe(200)

    await bus.publish(Array.from({ length: 30 }, (_, i) => event(201 + i)))
    await waitFor(async () => (await countAll(bus)) === 230, { what: 'live state' })
    const second = await replayConsumer(bus, { consumer: projection, rebuild: true, batchSize: 25 })
    expect(second.online?.fromSnapshot?.events).toBe(200)
    expect(second.events).toBe(30) // only the tail after the snapshot
    expect(second.online?.proof).toMatchObject({ equal: true, swapped: true })

    // From zero, compared only (what `reconcile --state` runs): equal to live too.
    const zero = await rebuildOnline(bus, { consumer: projection, batchSize: 25, swap: false, fromSnapshot: false })
    expect(zero).toMatchObject({ fromSnapshot: null, events: 230, proof: { equal: true, swapped: false } })
    await runners.stop()
  })
})

async function countAll(bus: Awaited<ReturnType<typeof testBus>>): Promise<number> {
  const counts = await bus.redis.hvals(bus.keys.state('totals', 'count'))
  return counts.reduce((a, c) => a + Number(c), 0)
}
