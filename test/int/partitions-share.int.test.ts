import { describe, expect, it } from 'vitest'
import { createBus, defineConsumer, permissiveContracts, type Bus, type ConsumerDefinition, type Runners } from '../../src/bus/index.js'
import { leaseHolder } from '../../src/bus/lease.js'
import { quotaOf } from '../../src/bus/partition-share.js'
import { testBus, waitFor } from '../support/bus.js'
import { testRedisUrl } from '../support/namespace.js'

const P = 4
const fast = { blockMs: 100, visibilityTimeoutMs: 1_500, retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 40 } }

/** Sums numbers per key and emits what it applied (same key: the same partition). */
function summer(): ConsumerDefinition {
  return defineConsumer({
    name: 'sum',
    subscribes: ['num.added'],
    handle(event, ctx) {
      const { n } = event.payload as { n: number }
      ctx.state.hincrby('sum', event.key, n)
      ctx.emit({ type: 'num.applied', payload: { n } })
    },
  })
}

/** Another bus on the same namespace: another instance, as a second process would be. */
async function instance(of: Bus): Promise<Bus> {
  const bus = await createBus({ url: testRedisUrl(), namespace: of.namespace, contracts: permissiveContracts, warn: () => {} })
  return bus
}

/** Who holds each partition's lease of `sum` (instance names, '' for none). */
async function holders(bus: Bus): Promise<string[]> {
  return Promise.all(bus.partitions.map(async (keys) => leaseHolder((await bus.redis.get(keys.lease('sum'))) ?? '')))
}

/** Applied numbers per key, in the order their partition applied them. */
async function applied(bus: Bus): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>()
  for (const keys of bus.partitions) {
    for (const [, f] of (await bus.redis.xrange(keys.stream('num.applied'), '-', '+')) as [string, string[]][]) {
      const key = f[f.indexOf('key') + 1] as string
      out.set(key, [...(out.get(key) ?? []), (JSON.parse(f[f.indexOf('payload') + 1] as string) as { n: number }).n])
    }
  }
  return out
}

async function handled(bus: Bus): Promise<number> {
  let sum = 0
  for (const keys of bus.partitions) sum += Number((await bus.redis.hget(keys.stats('sum'), 'handled')) ?? 0)
  return sum
}

const numbers = (keys: number, perKey: number) =>
  Array.from({ length: keys * perKey }, (_, i) => ({ type: 'num.added', key: `k${i % keys}`, payload: { n: Math.floor(i / keys) } }))

describe('partitions shared by many instances', () => {
  it('quotas add up to P and give every instance one while P >= N', () => {
    for (const n of [1, 2, 3, 4, 5]) {
      const live = Array.from({ length: n }, (_, i) => `i${i}`)
      const quotas = live.map((i) => quotaOf(i, live, 4))
      expect(quotas.reduce((a, b) => a + b, 0)).toBe(4)
      if (n <= 4) expect(Math.min(...quotas)).toBeGreaterThanOrEqual(1)
    }
  })

  it('three instances spread the partitions and keep per-key order within each', async () => {
    const bus = await testBus({ partitions: P })
    const buses = [bus, await instance(bus), await instance(bus)]
    const handles = buses.map((b) => b.run([summer()], fast))
    try {
      const names = handles.map((h) => h.runners[0]!.instance)
      // Every instance owns at least one partition, from the leases alone.
      await waitFor(async () => new Set((await holders(bus)).filter((h) => names.includes(h))).size === 3, { what: 'three owners' })
      await bus.publish(numbers(24, 10))
      await waitFor(async () => (await handled(bus)) === 240, { what: '240 handled' })
      const order = await applied(bus)
      expect(order.size).toBe(24)
      for (const ns of order.values()) expect(ns).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
      // The events did land in more than one partition.
      const used = await Promise.all(bus.partitions.map(async (k) => bus.redis.xlen(k.stream('num.added'))))
      expect(used.filter((n) => n > 0).length).toBeGreaterThan(1)
    } finally {
      await Promise.all(handles.map((h) => h.stop()))
      await Promise.all(buses.slice(1).map((b) => b.close()))
    }
  })

  it('an instance killed mid-wave: its partitions are taken over after the visibility timeout, pending entries included, nothing lost or applied twice', async () => {
    const bus = await testBus({ partitions: P })
    const other = await instance(bus)
    let victim: Runners | undefined
    let killed = false
    const survivor = other.run([summer()], fast)
    victim = bus.run([summer()], {
      ...fast,
      beforeCommit: () => {
        if (!killed && victim) {
          killed = true
          victim.kill()
        }
      },
    })
    try {
      const names = [victim.runners[0]!.instance, survivor.runners[0]!.instance]
      await waitFor(async () => new Set((await holders(bus)).filter((h) => names.includes(h))).size === 2, { what: 'two owners' })
      await bus.publish(numbers(16, 5))
      await waitFor(() => killed, { what: 'the kill' })
      // The survivor ends up owning every partition, the victim's pending entries claimed.
      await waitFor(async () => (await holders(bus)).every((h) => h === names[1]), { what: 'takeover' })
      await waitFor(async () => (await handled(bus)) === 80, { what: '80 handled' })
      const order = await applied(bus)
      expect([...order.values()].flat().length).toBe(80)
      for (const ns of order.values()) expect(ns).toEqual([0, 1, 2, 3, 4])
    } finally {
      await survivor.stop()
      await other.close()
    }
  })

  it('a graceful stop hands its partitions over at once; a fourth instance joining gets a share', async () => {
    const bus = await testBus({ partitions: P })
    const buses = [bus, await instance(bus), await instance(bus), await instance(bus)]
    const handles = buses.slice(0, 3).map((b) => b.run([summer()], fast))
    try {
      const names = handles.map((h) => h.runners[0]!.instance)
      await waitFor(async () => new Set((await holders(bus)).filter((h) => names.includes(h))).size === 3, { what: 'three owners' })
      await handles[2]!.stop()
      // Released on the way out, not left to expire.
      expect(await holders(bus)).not.toContain(names[2])
      await waitFor(async () => (await holders(bus)).every((h) => h === names[0] || h === names[1]), { what: 'two owners of all' })
      const fourth = buses[3]!.run([summer()], fast)
      handles.push(fourth)
      const now = [names[0], names[1], fourth.runners[0]!.instance]
      await waitFor(async () => {
        const held = await holders(bus)
        return held.every((h) => now.includes(h)) && new Set(held).size === 3
      }, { what: 'the newcomer owning one' })
      await bus.publish(numbers(8, 3))
      await waitFor(async () => (await handled(bus)) === 24, { what: '24 handled' })
    } finally {
      await Promise.all([handles[0], handles[1], handles[3]].map((h) => h?.stop()))
      await Promise.all(buses.slice(1).map((b) => b.close()))
    }
  })
})
