import { expect, it } from 'vitest'
import { defineConsumer } from '../../src/bus/index.js'
import { testBus, waitFor } from '../support/bus.js'
import { sharedCounter } from '../support/consumers.js'

const fast = { blockMs: 50, batchSize: 100 }

it('read-modify-writes of shared state by events of different keys in one wave lose no update', async () => {
  const bus = await testBus()
  const counter = sharedCounter
  // Published before the consumer starts, so the first read brings all 60 in one batch.
  await bus.publish(Array.from({ length: 60 }, (_, i) => ({ type: 'tick', key: `k${i}`, payload: {} })))
  const runners = bus.run([counter], fast)
  await waitFor(async () => (await bus.redis.hget(bus.keys.stats('counter'), 'handled')) === '60', { what: '60 handled' })
  const deferred = runners.runners[0]?.metrics.deferred ?? 0
  await runners.stop()
  expect(await bus.redis.get(bus.keys.state('counter', 'total'))).toBe('60')
  expect(deferred).toBeGreaterThan(0)
})

it('writes to different fields of one hash do not serialise the wave', async () => {
  const bus = await testBus()
  const latest = defineConsumer({
    name: 'latest',
    subscribes: ['price'],
    async handle(event, ctx) {
      const previous = await ctx.state.hget('latest', event.key)
      ctx.state.hset('latest', event.key, String(Number(previous ?? 0) + 1))
    },
  })
  await bus.publish(Array.from({ length: 40 }, (_, i) => ({ type: 'price', key: `isin${i}`, payload: {} })))
  const runners = bus.run([latest], fast)
  await waitFor(async () => (await bus.redis.hget(bus.keys.stats('latest'), 'handled')) === '40', { what: '40 handled' })
  const deferred = runners.runners[0]?.metrics.deferred
  await runners.stop()
  expect(deferred).toBe(0)
  expect(Object.keys(await bus.redis.hgetall(bus.keys.state('latest', 'latest')))).toHaveLength(40)
})

it('events of different keys appending to one shared list keep stream order, handled O(n) times', async () => {
  const bus = await testBus()
  let handled = 0
  const journal = defineConsumer({
    name: 'journal',
    subscribes: ['entry'],
    async handle(event, ctx) {
      handled++
      const list = (await ctx.state.getJson<number[]>('list')) ?? []
      ctx.state.setJson('list', [...list, (event.payload as { n: number }).n])
    },
  })
  const n = 80
  await bus.publish(Array.from({ length: n }, (_, i) => ({ type: 'entry', key: `k${i}`, payload: { n: i } })))
  const runners = bus.run([journal], { ...fast, batchSize: 40 })
  await waitFor(async () => (await bus.redis.hget(bus.keys.stats('journal'), 'handled')) === String(n), { what: `${n} handled` })
  await runners.stop()
  expect(JSON.parse((await bus.redis.get(bus.keys.state('journal', 'list'))) as string)).toEqual(Array.from({ length: n }, (_, i) => i))
  // Every wave handles the first event for real and at most one stale try of the next: no n²/2.
  expect(handled).toBeLessThanOrEqual(3 * n)
})

it('an event deferred by a conflict is not overtaken by a later event that shares state only with it', async () => {
  const bus = await testBus()
  const mixed = defineConsumer({
    name: 'mixed',
    subscribes: ['step'],
    async handle(event, ctx) {
      const { name } = event.payload as { name: string }
      if (name === 'first') return void ctx.state.set('x', 'written')
      if (name === 'second') await ctx.state.get('x') // conflicts with first: deferred
      const order = (await ctx.state.getJson<string[]>('y')) ?? []
      ctx.state.setJson('y', [...order, name])
    },
  })
  await bus.publish(['first', 'second', 'third'].map((name, i) => ({ type: 'step', key: `k${i}`, payload: { name } })))
  const runners = bus.run([mixed], fast)
  await waitFor(async () => (await bus.redis.hget(bus.keys.stats('mixed'), 'handled')) === '3', { what: '3 handled' })
  await runners.stop()
  expect(JSON.parse((await bus.redis.get(bus.keys.state('mixed', 'y'))) as string)).toEqual(['second', 'third'])
})
