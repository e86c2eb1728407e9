import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { consumerStatus, defineConsumer, PoisonError, publishDual, translationConsumer, type Bus, type ConsumerDefinition } from '../../src/bus/index.js'
import { reconcile } from '../../src/pipeline/reconcile/index.js'
import { builtinSource } from '../../src/pipeline/source.js'
import { loadContracts, type ContractRegistry } from '../../src/events/index.js'
import { adoption, versionsInUse } from '../../src/pipeline/adoption.js'
import { checkContracts, readBaseline } from '../../src/events/compat/index.js'
import { cp, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { onTestFinished } from 'vitest'
import { testRedisUrl } from '../support/namespace.js'
import { testBus, waitFor } from '../support/bus.js'
import { testNamespace } from '../support/namespace.js'

const fixtures = (name: string): string => fileURLToPath(new URL(`../fixtures-schema/${name}`, import.meta.url))
const PRICE = 'test.price.set'
const fast = { blockMs: 100, visibilityTimeoutMs: 1_000 }

function contracts(): ContractRegistry {
  const registry = loadContracts(fixtures('upcast'))
  registry.registerUpcaster(PRICE, 1, (p: { isin: string; price: number }) => ({ ...p, currency: 'EUR' }))
  registry.registerUpcaster(PRICE, 2, (p: { isin: string; price: number; currency: string }) => ({ isin: p.isin, price: { amount: p.price, currency: p.currency }, asOf: '1970-01-01' }))
  return registry
}

/** A reader written for one version of the price: it counts each fact per ISIN and the versions it was handed. */
function reader(name: string, version: number): ConsumerDefinition {
  return defineConsumer({
    name,
    subscribes: [PRICE],
    reads: { [PRICE]: version },
    handle(event, ctx) {
      const p = event.payload as { price: unknown }
      // v2 carries a number, v3 an object: a reader handed the wrong shape would say so here.
      if ((version === 2) !== (typeof p.price === 'number')) throw new Error(`${name} (v${version}) was handed v${event.version}`)
      ctx.state.hincrby('facts', event.key, 1)
      ctx.state.hincrby('versions', `v${event.version}`, 1)
    },
  })
}

/** A valid ISIN per fact number. */
const isinOf = (n: number) => `LU000000000${n}`
const v2 = (isin: string, price: number) => ({ isin, price, currency: 'EUR' })
const v3 = (isin: string, price: number) => ({ isin, price: { amount: price, currency: 'EUR' }, asOf: '2026-11-24' })

async function drained(bus: Bus, consumers: readonly ConsumerDefinition[]): Promise<void> {
  await waitFor(async () => (await consumerStatus(bus, consumers)).every((s) => s.lag === 0 && s.pending === 0), { what: 'readers caught up' })
}

describe('a dual-published contract migration (v2 -> v3 of a type)', () => {
  it('adoption moves from 0% to 100% as consumers move; each reader handles every fact once, in its own version', async () => {
    const namespace = testNamespace('adoption')
    const before = await testBus({ namespace, contracts: contracts(), producerVersion: 'pricer@1.4.0' })
    const after = await testBus({ namespace, contracts: contracts(), producerVersion: 'pricer@2.0.0' })
    let readers = [reader('valuer', 2), reader('risk', 2)]
    let runners = before.run(readers, fast)
    const v3Share = async () => {
      const report = await adoption(before, { types: [PRICE] })
      return report.types[0]?.adoption[3] ?? 0
    }

    // Before the migration: the old producer writes v2 only.
    await before.publish([1, 2, 3].map((n) => ({ type: PRICE, version: 2, key: isinOf(n), payload: v2(isinOf(n), n) })))
    await drained(before, readers)
    expect(await v3Share()).toBe(0)

    // The new producer dual-publishes v2 and v3 of each fact.
    const dual = async (n: number) => publishDual(after, { type: PRICE, key: isinOf(n) }, [{ version: 2, payload: v2(isinOf(n), n) }, { version: 3, payload: v3(isinOf(n), n) }])
    for (const n of [4, 5]) await dual(n)
    await drained(before, readers)
    expect(await v3Share()).toBe(0)

    // valuer moves to v3: half the readers.
    await runners.stop()
    readers = [reader('valuer', 3), reader('risk', 2)]
    runners = before.run(readers, fast)
    for (const n of [6, 7]) await dual(n)
    await drained(before, readers)
    expect(await v3Share()).toBe(0.5)
    // Dropping v2 (and v1) now is refused: risk still reads v2.
    const onlyV3 = await mkdtemp(join(tmpdir(), 'eventspine-only-v3-'))
    onTestFinished(() => rm(onlyV3, { recursive: true, force: true }))
    await cp(join(fixtures('upcast'), PRICE, 'v3.schema.json'), join(onlyV3, PRICE, 'v3.schema.json'), { recursive: true })
    const dropOld = async () => checkContracts({ registry: loadContracts(onlyV3), baseline: readBaseline({ against: fixtures('upcast'), dirs: [] }), inUse: await versionsInUse({ url: testRedisUrl(), namespace }) })
    const refused = await dropOld()
    expect(refused.ok).toBe(false)
    expect(refused.problems.map((p) => p.reason)).toContainEqual(expect.stringContaining('registered consumers still read v2: risk'))

    // risk moves too: every reader is on v3.
    await runners.stop()
    readers = [reader('valuer', 3), reader('risk', 3)]
    runners = before.run(readers, fast)
    await dual(8)
    await drained(before, readers)
    await runners.stop()

    const report = await adoption(before, { types: [PRICE] })
    const type = report.types[0]
    expect(type?.adoption).toEqual({ 2: 0, 3: 1 })
    expect(type?.appended).toEqual({ 2: 8, 3: 5 })
    expect(type?.dual).toBe(10)
    // No reader is left on v2, but its stored events are: still refused, for that reason; v1 (none stored, none read) may go.
    const later = await dropOld()
    expect(later.problems.map((p) => `v${p.version}: ${p.reason}`)).toEqual(['v2: v2 was removed: 8 events stored as v2 remain in the stream and could no longer be validated or upcast; keep the contract until retention trims them'])
    // The envelope says which producer version wrote which contract version.
    expect(type?.producers).toEqual({ 'pricer@1.4.0': { 2: 3 }, 'pricer@2.0.0': { 2: 5, 3: 5 } })
    expect(type?.readers.map((r) => ({ consumer: r.consumer, reads: r.reads, native: r.native, otherCopies: r.otherCopies }))).toEqual([
      { consumer: 'risk', reads: 3, native: [3], otherCopies: [2] },
      { consumer: 'valuer', reads: 3, native: [3], otherCopies: [2] },
    ])
    // Each fact handled once by each reader, across the move; nothing dead-lettered.
    for (const name of ['valuer', 'risk']) {
      expect(await before.redis.hgetall(before.keys.state(name, 'facts'))).toEqual(Object.fromEntries([1, 2, 3, 4, 5, 6, 7, 8].map((n) => [isinOf(n), '1'])))
      expect(await before.redis.xlen(before.keys.deadLetters(name))).toBe(0)
    }
    expect(await before.redis.hgetall(before.keys.state('valuer', 'versions'))).toEqual({ v2: '5', v3: '3' })
    expect(await before.redis.hgetall(before.keys.state('risk', 'versions'))).toEqual({ v2: '7', v3: '1' })
  })
})

describe('the strangler path: a translation consumer from an old type to a new one', () => {
  it('translates every old event once; reconcile accounts for each (translated, dead-lettered) and finds one gone missing', async () => {
    const bus = await testBus()
    const translator = translationConsumer({
      name: 'orders-v2-translator',
      from: { type: 'orders.placed' },
      to: { type: 'orders.order-placed' },
      translate: (p) => {
        const { id, amount } = p as { id: string; amount: number }
        if (amount < 0) throw new PoisonError(`order ${id}: a negative amount has no translation`)
        return { orderId: id, total: { amount, currency: 'EUR' } }
      },
    })
    const runners = bus.run([translator], fast)
    await bus.publish([1, 2, 3, 4, 5, 6].map((n) => ({ type: 'orders.placed', key: `o${n}`, payload: { id: `o${n}`, amount: n === 4 ? -1 : n * 10 } })))
    await drained(bus, [translator])
    await runners.stop()
    const source = { ...builtinSource(), consumers: () => [translator] }

    const report = await reconcile(bus, source, { translations: ['orders-v2-translator'] })
    expect(report.translations).toEqual([{ consumer: 'orders-v2-translator', from: 'orders.placed', to: 'orders.order-placed', old: 6, translated: 5, waiting: 0, deadLettered: 1, missing: [], twice: [] }])
    expect(report.unexplained).toEqual([])

    // A translation lost (say, trimmed by mistake): reconcile names the old event by entry id and fails.
    const [lost] = (await bus.redis.xrange(bus.keys.stream('orders.order-placed'), '-', '+', 'COUNT', 1)) as [string, string[]][]
    const cause = (lost as [string, string[]])[1][(lost as [string, string[]])[1].indexOf('causationId') + 1]
    await bus.redis.xdel(bus.keys.stream('orders.order-placed'), (lost as [string, string[]])[0])
    const [oldEntry] = ((await bus.redis.xrange(bus.keys.stream('orders.placed'), '-', '+')) as [string, string[]][]).filter(([, f]) => f[f.indexOf('id') + 1] === cause)
    const after = await reconcile(bus, source, { translations: ['orders-v2-translator'] })
    expect(after.translations[0]).toMatchObject({ translated: 4, missing: [(oldEntry as [string, string[]])[0]] })
    expect(after.unexplained).toEqual([`orders-v2-translator: 1 orders.placed events have no orders.order-placed translation and are neither waiting nor dead-lettered: ${(oldEntry as [string, string[]])[0]}`])
  })
})
