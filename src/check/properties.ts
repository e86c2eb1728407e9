import fc from 'fast-check'
import type { ConsumerDefinition } from '../bus/types.js'
import { readDeadLetters, type DeadLetter } from '../bus/dead-letters.js'
import type { FaultKind } from './driver.js'
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

async function compareRuns(h: Harness, events: CheckEvent[], expected: RunPlan, actual: RunPlan, labels: { expected: string; actual: string; faults?: boolean }, extraCheck?: (actual: Awaited<ReturnType<typeof runOnce>>) => Promise<void>): Promise<void> {
  const a = await runOnce(h, events, expected)
  try {
    const b = await runOnce(h, events, actual)
    try {
      const diff = difference(a.obs, b.obs, { expected: labels.expected, actual: labels.faults === true ? faultsLabel(labels.actual, b.driver.faults) : labels.actual })
      if (diff !== undefined) fail(diff)
      if (extraCheck) await extraCheck(b)
    } finally {
      await b.dispose()
    }
  } finally {
    await a.dispose()
  }
}

/**
 * After a drain without poison: every event committed, nothing pending, no attempt counter left
 * behind, nothing dead-lettered. An event missing from the inbox is named by where it is (dead
 * letters, pending) so the failure agrees with the story above it.
 */
async function settled(run: Awaited<ReturnType<typeof runOnce>>, events: readonly CheckEvent[]): Promise<void> {
  const { bus } = run.driver
  const name = run.consumer.name
  const label = (id: string) => `#${events.findIndex((e) => e.id === id)}`
  const dead: DeadLetter[] = []
  for await (const letter of readDeadLetters(bus, name)) dead.push(letter)
  if (dead.length > 0) {
    const which = dead.map((d) => `${d.event ? label(d.event.id) : d.sourceEntryId} after ${d.attempts} attempt(s) (last error: ${d.error})`)
    fail(`dead-lettered although no failure was permanent: ${which.join('; ')}`)
  }
  const ids = [...new Set(events.map((e) => e.id as string))]
  const scores = await bus.redis.zmscore(bus.keys.inbox(name), ...ids)
  const missing = ids.filter((_, i) => scores[i] === null)
  if ((await run.driver.pendingCount()) > 0) fail(`entries stay pending after the drain${missing.length > 0 ? ` (${missing.map(label).join(', ')} never committed)` : ''}`)
  if (missing.length > 0) fail(`lost: ${missing.map(label).join(', ')} never committed, not pending, not dead-lettered`)
  const leftover = await bus.redis.hkeys(bus.keys.attempts(name))
  if (leftover.length > 0) fail(`attempt counters left behind after every event committed: ${leftover.join(', ')}`)
}

const PLURAL: Record<FaultKind, string> = {
  're-sent event': 're-sent events',
  redelivery: 'redeliveries',
  'injected failure': 'injected failures',
  'crash before commit': 'crashes before commit',
  'pause before commit': 'pauses before commit',
  takeover: 'takeovers',
  'retention trim': 'retention trims',
  'group loss': 'group losses',
  'dependency-down failure': 'dependency-down failures',
  'breaker opening': 'breaker openings',
  'pause by hand': 'pauses by hand',
}

/** A run's label naming only the faults it actually injected: "in waves, with 1 re-sent event, 2 injected failures". */
export function faultsLabel(base: string, faults: ReadonlyMap<FaultKind, number>): string {
  const parts = [...faults].map(([kind, n]) => `${n} ${n === 1 ? kind : PLURAL[kind]}`)
  return parts.length > 0 ? `${base}, with ${parts.join(', ')}` : `${base}, no fault injected`
}

const idempotency: Check = (h, events, commands, trace) =>
  compareRuns(h, events, { mode: 'sequential', oneByOne: true }, { mode: 'sequential', commands: commands as RunPlan['commands'] & object, ...(trace ? { trace } : {}) }, { expected: 'exactly-once run', actual: 'on the schedule', faults: true }, (run) => settled(run, events))

const crashSafety: Check = (h, events, commands, trace) =>
  compareRuns(h, events, { mode: 'sequential', oneByOne: true }, { mode: 'sequential', commands: commands as RunPlan['commands'] & object, ...(trace ? { trace } : {}) }, { expected: 'run without crashes', actual: 'on the schedule', faults: true }, async (run) => {
    await settled(run, events)
    const { redis, keys } = run.driver.bus
    const distinct = new Set(events.map((e) => e.id)).size
    const handled = Number((await redis.hget(keys.stats(run.consumer.name), 'handled')) ?? 0)
    if (handled !== distinct) fail(`applied ${handled} times for ${distinct} distinct events`)
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
          const diff = difference(clean.obs, live.obs, { expected: 'keys in publish order, one at a time', actual: faultsLabel('keys interleaved, handled in waves', live.driver.faults) })
          if (diff !== undefined) fail(`${diff}\n${orderingCause(events, live.driver.commits, (e) => live.driver.orderKey(e)).map((c) => `    (${c})`).join('\n')}`)
        }
      } finally {
        await live.dispose()
      }
    } finally {
      await clean.dispose()
    }
  }
}

/**
 * Why a run in waves can end elsewhere than publish order: the pairs of events that took effect
 * out of publish order, by what let them: the consumer's own orderingKey splitting one key,
 * one key on several streams (order is kept per stream), or different keys (cross-key order,
 * the only case `dependsOnCrossKeyOrder` is about).
 */
export function orderingCause(events: readonly CheckEvent[], commits: readonly { id: string; streamKey: string }[], orderKey: (e: CheckEvent) => string): string[] {
  const position = new Map(events.map((e, i) => [e.id as string, i]))
  const order: number[] = []
  for (const c of commits) {
    const i = position.get(c.id)
    if (i !== undefined && !order.includes(i)) order.push(i)
  }
  const causes = new Map<string, string>()
  order.forEach((later, a) => {
    for (const earlier of order.slice(a + 1).filter((i) => i < later)) {
      const [x, y] = [events[earlier] as CheckEvent, events[later] as CheckEvent]
      const pair = `#${later} took effect before #${earlier}`
      if (orderKey(x) === orderKey(y)) {
        if (!causes.has('stream')) causes.set('stream', `${pair}: they share ordering key ${orderKey(x)} but come on different streams (${x.type}, ${y.type}); order is kept per stream and key, not across streams`)
      } else if (x.key === y.key) {
        if (!causes.has('orderingKey')) causes.set('orderingKey', `${pair}: they share key ${x.key}, but the consumer's own orderingKey puts them in different queues (${orderKey(x)}, ${orderKey(y)}), handled in parallel`)
      } else if (!causes.has('cross-key')) causes.set('cross-key', `${pair}: events of different keys (${x.key}, ${y.key}) whose order matters; the consumer does not declare dependsOnCrossKeyOrder`)
    }
  })
  if (causes.size === 0) return ['no two events took effect out of publish order: the difference comes from handling in concurrent waves or from the faults injected, not from order']
  return [...causes.values()]
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
