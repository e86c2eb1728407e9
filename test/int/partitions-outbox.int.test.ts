import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeEvent, encodeEvent } from '../../src/events/envelope.js'
import { deriveEventId, newCorrelationId, newEventId } from '../../src/events/ids.js'
import { createBus, defineConsumer, partitionOf, permissiveContracts, type Bus, type ConsumerDefinition, type Runners } from '../../src/bus/index.js'
import { OUTBOX_TARGET } from '../../src/bus/context.js'
import { leaseHolder } from '../../src/bus/lease.js'
import { RELAY_GROUP, readRelayLag } from '../../src/bus/partition-relay.js'
import { toRecord } from '../../src/bus/reader.js'
import { appendEncoded } from '../../src/bus/publish.js'
import { testBus, waitFor } from '../support/bus.js'
import { testRedisUrl } from '../support/namespace.js'

// Reproduce a failure with FC_SEED=<seed printed by fast-check> npx vitest run <this file>.
const seed = process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED)
const P = 4
const fast = { blockMs: 100, visibilityTimeoutMs: 800, batchSize: 4, retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 40 } }

/** Each input emits one event under another key: most land in another partition, through the outbox. */
const fan: ConsumerDefinition = defineConsumer({
  name: 'fan',
  subscribes: ['n.in'],
  emits: ['n.out'],
  handle(event, ctx) {
    const { n } = event.payload as { n: number }
    ctx.emit({ type: 'n.out', key: `out-${n}`, payload: { n } })
  },
})

/** Every n.out in every partition: [partition, event id, n]. */
async function outs(bus: Bus): Promise<{ partition: number; id: string; n: number }[]> {
  const found: { partition: number; id: string; n: number }[] = []
  for (const keys of bus.partitions) {
    for (const [, fields] of (await bus.redis.xrange(keys.stream('n.out'), '-', '+')) as [string, string[]][]) {
      const e = decodeEvent(fields)
      found.push({ partition: keys.partition, id: e.id, n: (e.payload as { n: number }).n })
    }
  }
  return found
}

async function outboxWaiting(bus: Bus): Promise<number> {
  let sum = 0
  for (const keys of bus.partitions) sum += await bus.redis.xlen(keys.outbox)
  return sum
}

/**
 * A relay that read entries and died: takes what waits in every outbox into the relay group as
 * another relay's pending entries, and, for `publishedToo`, appends them to their target first,
 * as one that died between the publish and the acknowledgement.
 */
async function deadRelayTakes(bus: Bus, publishedToo: boolean): Promise<void> {
  for (const keys of bus.partitions) {
    await bus.redis.xgroup('CREATE', keys.outbox, RELAY_GROUP, '0', 'MKSTREAM').catch(() => {})
    const read = (await bus.redis.xreadgroup('GROUP', RELAY_GROUP, 'dead-relay', 'COUNT', 1000, 'STREAMS', keys.outbox, '>')) as [string, [string, string[]][]][] | null
    if (!publishedToo) continue
    for (const [, fields] of read?.[0]?.[1] ?? []) {
      const at = fields.indexOf(OUTBOX_TARGET)
      const eventFields = [...fields.slice(0, at), ...fields.slice(at + 2)]
      const e = decodeEvent(eventFields)
      await appendEncoded(bus, bus.partitions[Number(fields[at + 1])]!, [{ id: e.id, type: e.type, correlationId: e.correlationId, fields: eventFields }])
    }
  }
}

interface Plan {
  readonly count: number
  /** Before the commit of these waves, a relay takes what waits and dies (true: after publishing it). */
  readonly deadRelays: ReadonlyMap<number, boolean>
  /** The instance is killed before the commit of this wave (null: never). */
  readonly killAt: number | null
}

/** The consumers of the relay group on a partition's outbox (each relay that read it and was not forgotten). */
async function relayConsumers(bus: Bus, partition: number): Promise<string[]> {
  const rows = (await bus.redis.xinfo('CONSUMERS', bus.partitions[partition]!.outbox, RELAY_GROUP)) as unknown[][]
  return rows.map((row) => String(toRecord(row).name)).sort()
}

/** Keys of two partitions: `from` lives in one, `to` in another. */
function twoPartitions(): { from: string; to: string; source: number; target: number } {
  const from = 'src'
  const source = partitionOf(from, P)
  const to = Array.from({ length: 50 }, (_, i) => `dst-${i}`).find((k) => partitionOf(k, P) !== source)!
  return { from, to, source, target: partitionOf(to, P) }
}

/** Emits n.out of one key waiting in `source`'s outbox for `target`, as commits write them, in order. */
async function writeEmits(bus: Bus, source: number, target: number, key: string, ns: readonly number[]): Promise<void> {
  const correlationId = newCorrelationId()
  for (const n of ns) {
    const fields = encodeEvent({ id: newEventId(), type: 'n.out', version: 1, source: 'fan', occurredAt: new Date(0).toISOString(), correlationId, causationId: '', key, payload: { n } })
    await bus.redis.xadd(bus.partitions[source]!.outbox, '*', ...fields, OUTBOX_TARGET, String(target))
  }
}

/** The n of every n.out in a partition's stream, in stream order. */
async function arrived(bus: Bus, partition: number): Promise<number[]> {
  const entries = (await bus.redis.xrange(bus.partitions[partition]!.stream('n.out'), '-', '+')) as [string, string[]][]
  return entries.map(([, fields]) => (decodeEvent(fields).payload as { n: number }).n)
}

async function runPlan(plan: Plan): Promise<void> {
  const bus = await testBus({ partitions: P })
  let wave = 0
  let first: Runners | undefined
  let killed = false
  first = bus.run([fan], {
    ...fast,
    beforeCommit: async () => {
      wave++
      const dead = plan.deadRelays.get(wave)
      if (dead !== undefined) await deadRelayTakes(bus, dead)
      if (wave === plan.killAt && first) {
        killed = true
        first.kill()
      }
    },
  })
  const published = await bus.publish(Array.from({ length: plan.count }, (_, n) => ({ type: 'n.in', key: `in-${n}`, payload: { n } })))
  let second: Bus | undefined
  let secondRun: Runners | undefined
  try {
    // A plan may name a wave the day never reaches: then nobody dies.
    const complete = async () => new Set((await outs(bus)).map((o) => o.n)).size === plan.count
    await waitFor(async () => killed || (await complete()), { what: 'the kill or every n.out' })
    if (killed) {
      second = await createBus({ url: testRedisUrl(), namespace: bus.namespace, contracts: permissiveContracts, warn: () => {} })
      secondRun = second.run([fan], fast)
    }
    await waitFor(complete, { what: `all ${plan.count} n.out` })
    await waitFor(async () => (await outboxWaiting(bus)) === 0, { what: 'empty outboxes' })
    const found = await outs(bus)
    // Exactly once, under the id the commit gave it, in the partition of its key.
    expect(found.length).toBe(plan.count)
    for (const o of found) {
      expect(o.id).toBe(deriveEventId(published[o.n]!.id, 'fan#0'))
      expect(o.partition).toBe(partitionOf(`out-${o.n}`, P))
    }
  } finally {
    await first.stop()
    await secondRun?.stop()
    await second?.close()
  }
}

describe('emits across partitions go through the outbox', () => {
  it('arrive exactly once in their target partition, with the same id, the relay in the runners', async () => {
    const bus = await testBus({ partitions: P })
    const run = bus.run([fan], fast)
    const published = await bus.publish(Array.from({ length: 20 }, (_, n) => ({ type: 'n.in', key: `in-${n}`, payload: { n } })))
    try {
      await waitFor(async () => (await outs(bus)).length === 20, { what: '20 n.out' })
      const found = await outs(bus)
      expect(new Set(found.map((o) => o.id))).toEqual(new Set(published.map((p) => deriveEventId(p.id, 'fan#0'))))
      // Most went across: the outbox was used and is empty again; the lag says so.
      expect(found.filter((o) => o.partition !== partitionOf(`in-${o.n}`, P)).length).toBeGreaterThan(0)
      await waitFor(async () => (await outboxWaiting(bus)) === 0, { what: 'empty outboxes' })
      const lag = await readRelayLag(bus)
      expect(lag.map((l) => [l.partition, l.waiting, l.oldestAgeMs])).toEqual(bus.partitions.map((_, p) => [p, 0, 0]))
      expect(run.relay?.moved()).toBeGreaterThan(0)
    } finally {
      await run.stop()
    }
  })

  it("one relay per outbox: a process never reads an outbox whose relay lease another process holds", async () => {
    const bus = await testBus({ partitions: P })
    const { to, source, target } = twoPartitions()
    const relayLease = bus.partitions[source]!.relayLease
    await bus.redis.set(relayLease, 'relay@other/0', 'PX', 120_000)
    const run = bus.run([fan], fast)
    try {
      // This process runs every partition, so it may relay every outbox: all but the source's.
      await waitFor(() => run.runners[0]!.owned().length === P, { what: 'every partition held' })
      await writeEmits(bus, source, target, to, [0, 1, 2])
      const barrier = [0, 1, 2, 3].find((p) => p !== source && p !== target)!
      // Three emits through another outbox, each after the one before arrived: a whole pass of the relay over every outbox began and ended after the source's emits were written.
      for (const n of [100, 101, 102]) {
        await writeEmits(bus, barrier, target, to, [n])
        await waitFor(async () => (await arrived(bus, target)).includes(n), { what: `barrier ${n}` })
      }
      expect(await arrived(bus, target)).toEqual([100, 101, 102])
      expect(await bus.redis.xlen(bus.partitions[source]!.outbox)).toBe(3)
      // The other relay stops: this one takes the lease and moves them.
      await bus.redis.del(relayLease)
      await waitFor(async () => (await arrived(bus, target)).length === 6, { what: 'the source outbox relayed' })
      expect(await arrived(bus, target)).toEqual([100, 101, 102, 0, 1, 2])
    } finally {
      await run.stop()
    }
  })

  it("a relay that takes over moves a dead relay's unacknowledged emits before the newer ones, and forgets its group consumer", async () => {
    const bus = await testBus({ partitions: P })
    const { to, source, target } = twoPartitions()
    const outbox = bus.partitions[source]!.outbox
    // Ten emits of one key waiting in the source's outbox, as commits write them, in order.
    await writeEmits(bus, source, target, to, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    // A relay held the lease, read the five oldest and died: its lease runs out on its own.
    await bus.redis.xgroup('CREATE', outbox, RELAY_GROUP, '0', 'MKSTREAM')
    await bus.redis.xreadgroup('GROUP', RELAY_GROUP, 'relay@dead', 'COUNT', 5, 'STREAMS', outbox, '>')
    await bus.redis.set(bus.partitions[source]!.relayLease, 'relay@dead/0', 'PX', fast.visibilityTimeoutMs)
    const run = bus.run([fan], fast)
    try {
      await waitFor(async () => (await arrived(bus, target)).length === 10, { what: '10 n.out in the target partition' })
      expect(await arrived(bus, target)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
      expect(await relayConsumers(bus, source)).toEqual([leaseHolder((await bus.redis.get(bus.partitions[source]!.relayLease)) ?? '')])
    } finally {
      await run.stop()
    }
  })

  it('also when relays die between commit and relay, or between publish and acknowledgement, and the instance is killed (property)', async () => {
    const plan = fc
      .record({ count: fc.integer({ min: 4, max: 16 }), dead: fc.array(fc.tuple(fc.integer({ min: 1, max: 5 }), fc.boolean()), { maxLength: 3 }), killAt: fc.option(fc.integer({ min: 1, max: 5 })) })
      .map(({ count, dead, killAt }): Plan => ({ count, deadRelays: new Map(dead), killAt }))
    await fc.assert(
      fc.asyncProperty(plan, async (p) => runPlan(p)),
      { numRuns: 5, ...(seed === undefined ? {} : { seed }) },
    )
  })
})
