import fc from 'fast-check'
import type { ConsumerDefinition } from '../bus/types.js'
import { canonical, difference } from './observe.js'
import { runOnce, type Harness, type RunPlan } from './run.js'
import { scheduleArbitrary } from './schedule.js'
import type { CheckEvent, PropertyName } from './types.js'

/** A property as fast-check runs it, plus how to re-run a counterexample with a story. */
export interface PropertySpec {
  readonly property: fc.IAsyncPropertyWithHooks<[CheckEvent[], unknown]>
  /** Re-runs one case with tracing on; returns the story lines and the failure (if it fails again). */
  story(events: CheckEvent[], extra: unknown): Promise<{ story: string[]; failure: string | undefined }>
  /** Set when the property does not apply in full. */
  readonly note?: string
}

type Check = (h: Harness, events: CheckEvent[], extra: unknown, trace: string[] | undefined) => Promise<void>

class PropertyFailure extends Error {}

function fail(message: string): never {
  throw new PropertyFailure(message)
}

async function compareRuns(h: Harness, events: CheckEvent[], expected: RunPlan, actual: RunPlan, labels: { expected: string; actual: string }, extraCheck?: (actual: Awaited<ReturnType<typeof runOnce>>) => Promise<void>): Promise<void> {
  const a = await runOnce(h, events, expected)
  try {
    const b = await runOnce(h, events, actual)
    try {
      const diff = difference(a.obs, b.obs, labels)
      if (diff !== undefined) fail(diff)
      if (extraCheck) await extraCheck(b)
    } finally {
      await b.dispose()
    }
  } finally {
    await a.dispose()
  }
}

/** After a drain without poison: nothing pending, no attempt counter left behind, nothing dead-lettered. */
async function settled(run: Awaited<ReturnType<typeof runOnce>>, events: readonly CheckEvent[]): Promise<void> {
  const { redis, keys } = run.driver.bus
  const name = run.consumer.name
  const ids = [...new Set(events.map((e) => e.id as string))]
  const scores = await redis.zmscore(keys.inbox(name), ...ids)
  const lost = ids.map((id, i) => (scores[i] === null ? `#${events.findIndex((e) => e.id === id)}` : '')).filter(Boolean)
  if (lost.length > 0) fail(`lost: ${lost.join(', ')} never committed, not pending, not dead-lettered`)
  if ((await run.driver.pendingCount()) > 0) fail('entries stay pending after the drain')
  const leftover = await redis.hkeys(keys.attempts(name))
  if (leftover.length > 0) fail(`attempt counters left behind after every event committed: ${leftover.join(', ')}`)
  const dead = await redis.xlen(keys.deadLetters(name))
  if (dead > 0) fail(`${dead} event(s) dead-lettered although no failure was permanent`)
}

const idempotency: Check = (h, events, commands, trace) =>
  compareRuns(h, events, { mode: 'sequential', oneByOne: true }, { mode: 'sequential', commands: commands as RunPlan['commands'] & object, ...(trace ? { trace } : {}) }, { expected: 'exactly-once run', actual: 'with duplicates, redeliveries and retries' }, (run) => settled(run, events))

const crashSafety: Check = (h, events, commands, trace) =>
  compareRuns(h, events, { mode: 'sequential', oneByOne: true }, { mode: 'sequential', commands: commands as RunPlan['commands'] & object, ...(trace ? { trace } : {}) }, { expected: 'run without crashes', actual: 'with crashes and takeovers' }, async (run) => {
    const { redis, keys } = run.driver.bus
    const ids = [...new Set(events.map((e) => e.id as string))]
    const scores = await redis.zmscore(keys.inbox(run.consumer.name), ...ids)
    const lost = ids.filter((_, i) => scores[i] === null)
    if (lost.length > 0) fail(`lost: ${lost.length} event(s) never committed after the takeover`)
    const handled = Number((await redis.hget(keys.stats(run.consumer.name), 'handled')) ?? 0)
    if (handled !== ids.length) fail(`applied ${handled} times for ${ids.length} distinct events`)
    await settled(run, events)
  })

function orderingCheck(consumer: ConsumerDefinition): Check {
  return async (h, events, commands, trace) => {
    const plan: RunPlan = { mode: 'waves', commands: commands as RunPlan['commands'] & object, ...(trace ? { trace } : {}) }
    const clean = await runOnce(h, events, { mode: 'sequential', oneByOne: true })
    try {
      const live = await runOnce(h, events, plan)
      try {
        const position = new Map(events.map((e, i) => [e.id as string, i]))
        const lastByKey = new Map<string, number>()
        for (const c of live.driver.commits) {
          const i = position.get(c.id) ?? -1
          const key = `${c.streamKey} ${c.orderKey}`
          if (i < (lastByKey.get(key) ?? -1)) fail(`ordering key ${c.orderKey}: #${i} was committed after a later event of the same key and stream`)
          lastByKey.set(key, i)
        }
        for (const [type, list] of Object.entries(live.obs.emittedOrder)) {
          const last = new Map<string, number>()
          for (const { cause, key } of list) {
            const i = Number(cause.slice(1))
            if (i < (last.get(key) ?? -1)) fail(`${type}: the effect of ${cause} came after the effect of a later event of the same stream and key (${key})`)
            last.set(key, i)
          }
        }
        await settled(live, events)
        if (!consumer.dependsOnCrossKeyOrder) {
          const diff = difference(clean.obs, live.obs, { expected: 'keys in publish order, one at a time', actual: 'keys interleaved, handled in waves' })
          if (diff !== undefined) fail(`${diff}\n    (the consumer does not declare dependsOnCrossKeyOrder)`)
        }
      } finally {
        await live.dispose()
      }
    } finally {
      await clean.dispose()
    }
  }
}

const replay: Check = (h, events, commands, trace) =>
  compareRuns(h, events, { mode: 'sequential', commands: commands as RunPlan['commands'] & object }, { mode: 'sequential', ...(trace ? { trace } : {}) }, { expected: 'live instance', actual: 'fresh instance fed the whole history' })

const poisonIsolation: Check = async (h, events, poisonAt, trace) => {
  const p = (poisonAt as number) % events.length
  const poisoned = events[p] as CheckEvent
  const without = await runOnce(h, events, { mode: 'sequential', oneByOne: true, skip: p })
  try {
    await compareRuns(h, events, { mode: 'sequential', oneByOne: true, last: p }, { mode: 'sequential', poison: p, recover: true, ...(trace ? { trace } : {}) }, { expected: `#${p} handled after all the others`, actual: `#${p} poisoned, dead-lettered, fixed and re-delivered` }, async (run) => {
      const before = run.beforeRecovery
      if (!before) return
      if (!before.deadLetterIds.includes(poisoned.id)) fail(`#${p} was not dead-lettered`)
      const calls = run.driver.calls.get(poisoned.id) ?? 0
      if (calls !== h.retry.maxAttempts) fail(`#${p} was attempted ${calls} times, not ${h.retry.maxAttempts}`)
      const diff = difference(without.obs, before.obs, { expected: `run without #${p}`, actual: `#${p} poisoned` })
      if (diff !== undefined) fail(`the other events did not flow as without the poison: ${diff}`)
      if (before.summary.delivered !== 1 || before.summary.failed > 0) fail(`re-delivery after the fix: ${JSON.stringify(before.summary.results)}`)
      if ((await run.driver.bus.redis.xlen(run.driver.bus.keys.deadLetters(run.consumer.name))) > 0) fail('the dead letter is still there after its re-delivery')
      if ((await run.driver.pendingCount()) > 0) fail('entries stay pending after the poison event')
    })
  } finally {
    await without.dispose()
  }
}

const CHECKS: Record<PropertyName, (c: ConsumerDefinition) => Check> = {
  idempotency: () => idempotency,
  ordering: orderingCheck,
  replay: () => replay,
  'crash-safety': () => crashSafety,
  'poison-isolation': () => poisonIsolation,
}

/** The fast-check property for one consumer and one property name. */
export function propertySpec(name: PropertyName, h: Harness, consumer: ConsumerDefinition, events: fc.Arbitrary<CheckEvent[]>, maxEvents: number, replayPath?: string, groupLoss = false): PropertySpec {
  const check = CHECKS[name](consumer)
  const extra: fc.Arbitrary<unknown> =
    name === 'idempotency' ? scheduleArbitrary('idempotency', maxEvents, replayPath)
    : name === 'crash-safety' ? scheduleArbitrary('crash', maxEvents, replayPath)
    : name === 'ordering' ? scheduleArbitrary('ordering', maxEvents, replayPath, { groupLoss })
    : name === 'replay' ? scheduleArbitrary('replay', maxEvents, replayPath)
    : fc.nat({ max: maxEvents - 1 })
  return {
    property: fc.asyncProperty(events, extra, (e, x) => check(h, e, x, undefined)),
    async story(e, x) {
      const story: string[] = []
      try {
        await check(h, e, x, story)
        return { story, failure: undefined }
      } catch (error) {
        return { story, failure: error instanceof Error ? error.message : String(error) }
      }
    },
    ...(name === 'ordering' && consumer.dependsOnCrossKeyOrder ? { note: 'declares dependsOnCrossKeyOrder: per-key order checked, cross-key state comparison skipped' } : {}),
  }
}

export { canonical }
