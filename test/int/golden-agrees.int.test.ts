import { expect, it } from 'vitest'
import { defineConsumer, permissiveContracts, type Bus, type ConsumerDefinition } from '../../src/bus/index.js'
import { readCaseFile } from '../../src/check/golden/case-file.js'
import { storedValue } from '../../src/check/golden/expect.js'
import type { StoredValue } from '../../src/check/golden/memory-state.js'
import { runGolden, type GoldenRun, type InputEvent } from '../../src/check/golden/run.js'
import { goldenContracts } from '../../src/check/golden/spec.js'
import type { ContractChecker } from '../../src/bus/contracts.js'
import { decodeEvent, type EventEnvelope } from '../../src/events/envelope.js'
import { defaultReferenceDir } from '../../src/pipeline/paths.js'
import { loadReferenceData } from '../../src/pipeline/reference.js'
import { scoreConsumer } from '../../src/pipeline/stages/score.js'
import { testBus, waitFor } from '../support/bus.js'

const fast = { blockMs: 50, batchSize: 100 }

/**
 * The same inputs through the real runtime: state seeded in Redis, the golden run's very
 * envelopes published one after another, each once the one before it is handled (as events
 * arriving one at a time are handled; a backlog read at once may commit events of different
 * keys in another serializable order, which is what fuzz's ordering property explores); what
 * it emitted and the state it left, in the golden run's shapes.
 */
async function onRedis(bus: Bus, consumer: ConsumerDefinition, state: ReadonlyMap<string, StoredValue>, inputs: readonly EventEnvelope[]): Promise<{ emitted: EventEnvelope[]; state: Map<string, StoredValue> }> {
  for (const [name, value] of state) {
    const key = bus.keys.state(consumer.name, name)
    if (value.kind === 'string') await bus.redis.set(key, value.value)
    else await bus.redis.hset(key, Object.fromEntries(value.fields))
  }
  const runners = bus.run([consumer], fast)
  for (const [i, event] of inputs.entries()) {
    await bus.publish({ ...event })
    await waitFor(async () => (await bus.redis.hget(bus.keys.stats(consumer.name), 'handled')) === String(i + 1), { what: `${i + 1} handled` })
  }
  await runners.stop()
  const emitted: EventEnvelope[] = []
  for (const type of consumer.emits ?? []) {
    for (const [, fields] of (await bus.redis.xrange(bus.keys.stream(type), '-', '+')) as [string, string[]][]) emitted.push(decodeEvent(fields))
  }
  const prefix = bus.keys.statePrefix(consumer.name)
  const left = new Map<string, StoredValue>()
  for (const key of (await bus.redis.keys(`${prefix}*`)).sort()) {
    const type = await bus.redis.type(key)
    left.set(key.slice(prefix.length), type === 'hash' ? { kind: 'hash', fields: new Map(Object.entries(await bus.redis.hgetall(key))) } : { kind: 'string', value: (await bus.redis.get(key)) as string })
  }
  return { emitted, state: left }
}

/** Emitted events without their handling time (the one field a run on another clock changes), by id. */
function byId(events: readonly EventEnvelope[]): Record<string, Omit<EventEnvelope, 'occurredAt'>> {
  return Object.fromEntries(events.map(({ occurredAt: _time, ...rest }) => [rest.id, rest]))
}

async function agree(consumer: ConsumerDefinition, contracts: ContractChecker, state: ReadonlyMap<string, StoredValue>, when: readonly InputEvent[]): Promise<GoldenRun> {
  const memory = await runGolden(consumer, { contracts, state, when })
  const bus = await testBus({ contracts })
  const redis = await onRedis(bus, consumer, state, memory.inputs.map((i) => i.event))
  expect(byId(redis.emitted)).toEqual(byId(memory.inputs.flatMap((i) => i.emitted)))
  expect(redis.state).toEqual(memory.state)
  return memory
}

it('score\'s golden case gives what the runtime on Redis gives: the same emitted events (ids included) and state', async () => {
  const [jump] = (await readCaseFile('test/golden/score.case.json')).filter((c) => c.name.includes('jump'))
  expect(jump).toBeDefined()
  const state = new Map(Object.entries(jump?.given?.state ?? {}).map(([name, value]) => [name, storedValue(value)]))
  const memory = await agree(scoreConsumer(() => loadReferenceData(defaultReferenceDir())), goldenContracts(), state, jump?.when ?? [])
  expect(memory.inputs[0]?.emitted[0]?.payload).toMatchObject({ components: { consistency: 50 } })
})

it('reads see committed state only, never the event\'s own writes, on Redis as in memory', async () => {
  const counter = defineConsumer({
    name: 'counter',
    subscribes: ['test.credit'],
    emits: ['test.seen'],
    async handle(_event, ctx) {
      const before = Number((await ctx.state.get('n')) ?? '0')
      ctx.state.set('n', String(before + 1))
      ctx.state.hincrby('per-call', String(before), 1)
      ctx.emit({ type: 'test.seen', payload: { before, again: await ctx.state.get('n') } })
    },
  })
  const when = ['a', 'b', 'a', 'c'].map((key) => ({ type: 'test.credit', key, payload: {} }))
  const memory = await agree(counter, permissiveContracts, new Map([['n', { kind: 'string', value: '10' }]]), when)
  expect(memory.inputs.map((i) => i.emitted[0]?.payload)).toEqual([{ before: 10, again: '10' }, { before: 11, again: '11' }, { before: 12, again: '12' }, { before: 13, again: '13' }])
})
