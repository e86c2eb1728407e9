import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'
import { defineConsumer } from '../../src/bus/index.js'
import { loadContracts, type ContractRegistry, type EventEnvelope } from '../../src/events/index.js'
import { testBus, waitFor } from '../support/bus.js'
import { testNamespace } from '../support/namespace.js'

const fixtures = (name: string): string => fileURLToPath(new URL(`../fixtures-schema/${name}`, import.meta.url))
const PRICE = 'test.price.set'

// Today's code: contracts v1..v3 and the lifts v1 -> v2 (the currency was implied) -> v3 (money nested, a date).
function todaysContracts(): ContractRegistry {
  const registry = loadContracts(fixtures('upcast'))
  registry.registerUpcaster(PRICE, 1, (p: { isin: string; price: number }) => ({ ...p, currency: 'EUR' }))
  registry.registerUpcaster(PRICE, 2, (p: { isin: string; price: number; currency: string }) => ({
    isin: p.isin,
    price: { amount: p.price, currency: p.currency },
    asOf: '1970-01-01',
  }))
  return registry
}

it('a consumer on v3 reads v1 events stored by an older producer, lifted v1 -> v2 -> v3 and validated', async () => {
  const namespace = testNamespace('upcast')
  // Last year's producer knew only v1; its events stay in the stream as v1.
  const old = await testBus({ namespace, contracts: loadContracts(fixtures('upcast-v1')) })
  await old.publish([
    { type: PRICE, key: 'LU0000000001', payload: { isin: 'LU0000000001', price: 101.5 } },
    { type: PRICE, key: 'LU0000000002', payload: { isin: 'LU0000000002', price: 99 } },
  ])
  await old.close()

  const bus = await testBus({ namespace, contracts: todaysContracts() })
  const stored = (await bus.redis.xrange(bus.keys.stream(PRICE), '-', '+')) as [string, string[]][]
  expect(stored.map(([, fields]) => fields[fields.indexOf('version') + 1])).toEqual(['1', '1'])
  const seen: EventEnvelope[] = []
  const valuer = defineConsumer({ name: 'valuer', subscribes: [PRICE], handle: (event) => void seen.push(event) })
  const runners = bus.run([valuer], { blockMs: 100 })
  await waitFor(() => seen.length === 2, { what: 'both events handled' })
  await runners.stop()

  expect(seen.map((e) => e.version)).toEqual([3, 3])
  expect(seen.map((e) => e.payload)).toEqual([
    { isin: 'LU0000000001', price: { amount: 101.5, currency: 'EUR' }, asOf: '1970-01-01' },
    { isin: 'LU0000000002', price: { amount: 99, currency: 'EUR' }, asOf: '1970-01-01' },
  ])
  expect(await bus.redis.xlen(bus.keys.deadLetters('valuer'))).toBe(0)
})
