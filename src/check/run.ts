import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { redeliverDeadLetters, type RedeliverySummary } from '../bus/redeliver.js'
import type { RetryPolicy } from '../bus/retry.js'
import type { ScriptClient } from '../bus/scripts.js'
import type { ConsumerDefinition } from '../bus/types.js'
import type { ContractRegistry } from '../events/contracts.js'
import { Driver, type DriverMode } from './driver.js'
import { emitsMismatch, observe, type Observation } from './observe.js'
import { newModel, type ScheduleModel, type ScheduleReal } from './schedule.js'
import type { CheckEnv, CheckEvent } from './types.js'

/** What every run of one consumer shares. */
export interface Harness {
  readonly name: string
  readonly make: (env: CheckEnv) => ConsumerDefinition
  readonly redis: ScriptClient
  readonly registry: ContractRegistry
  readonly retry: RetryPolicy
  readonly tmpRoot: string
  readonly redisUrl: string
  /** A namespace no other run uses. */
  readonly namespace: () => string
  /** Notes for the report that are not failures (e.g. emitted types missing from `emits`). */
  readonly warn?: (message: string) => void
}

export interface RunPlan {
  readonly mode: DriverMode
  /** The schedule; without one every event is published before the consumer reads any. */
  readonly commands?: Iterable<fc.AsyncCommand<ScheduleModel, ScheduleReal>>
  /** Exactly once in publish order: each event is handled before the next is published. */
  readonly oneByOne?: boolean
  /** Input index whose handler always throws. */
  readonly poison?: number
  /** Input index left out (the clean run of the poison property). */
  readonly skip?: number
  /** Input index published after all the others (the clean run of a late re-delivery). */
  readonly last?: number
  /** After the drain, the poison is fixed and the dead letters re-delivered (`redeliverDeadLetters`). */
  readonly recover?: boolean
  readonly trace?: string[]
}

export interface RunResult {
  readonly obs: Observation
  /** With `recover`: the observation before the re-delivery, the dead letters then, and its summary. */
  readonly beforeRecovery?: { readonly obs: Observation; readonly deadLetterIds: readonly string[]; readonly summary: RedeliverySummary }
  readonly driver: Driver
  readonly consumer: ConsumerDefinition
  dispose(): Promise<void>
}

/** `#2 validated corr-1`: how the story names input events. */
export function describeEvent(event: CheckEvent, index: number): string {
  const type = event.type.replace(/^pipeline\.file\./, '')
  const key = event.key.length > 14 ? `${event.key.slice(0, 8)}…` : event.key
  return `#${index} ${type} key=${key}${event.correlationId !== event.key ? ` corr=${event.correlationId}` : ''}`
}

/** One run of the consumer on real Redis, in a namespace of its own: schedule, drain, observe. */
export async function runOnce(h: Harness, events: readonly CheckEvent[], plan: RunPlan): Promise<RunResult> {
  const namespace = h.namespace()
  const tmpDir = join(h.tmpRoot, namespace)
  mkdirSync(tmpDir)
  const consumer = h.make({ tmpDir, namespace, redisUrl: h.redisUrl })
  const index = new Map(events.map((e, i) => [e.id as string, i]))
  const label = (id: string) => {
    const i = index.get(id)
    return i === undefined ? `event ${id}` : describeEvent(events[i] as CheckEvent, i)
  }
  const driver = new Driver({
    redis: h.redis,
    contracts: h.registry,
    namespace,
    consumer,
    respawn: () => h.make({ tmpDir, namespace, redisUrl: h.redisUrl }),
    retry: h.retry,
    mode: plan.mode,
    label,
    ...(plan.trace ? { trace: (line: string) => void plan.trace?.push(line) } : {}),
  })
  // The run's keys are known (fixed names, what was published and written, what observe found):
  // one UNLINK instead of a SCAN of the whole keyspace per run.
  const dispose = async () => {
    const keys = [...driver.touched]
    for (let i = 0; i < keys.length; i += 500) await h.redis.unlink(...keys.slice(i, i + 500))
  }
  try {
    await driver.start()
    if (plan.poison !== undefined) driver.poison.add((events[plan.poison] as CheckEvent).id)
    const model = newModel(events.length)
    if (plan.commands) await fc.asyncModelRun(() => ({ model, real: { driver, events } }), plan.commands)
    const order = [...events.keys()].filter((i) => i >= model.published && i !== plan.skip && i !== plan.last)
    if (plan.last !== undefined) order.push(plan.last)
    for (const i of order) {
      await driver.publish(events[i] as CheckEvent)
      if (plan.oneByOne) await driver.deliver()
    }
    await driver.drain()
    const causeOf = (id: string) => {
      const i = index.get(id)
      const event = i === undefined ? undefined : events[i]
      return { label: i === undefined ? '(none)' : `#${i}`, key: event ? `${event.type} ${driver.orderKey(event)}` : '' }
    }
    if (plan.recover) {
      const before = await observe(driver, driver.consumer, causeOf)
      const dead = (await h.redis.xrange(driver.bus.keys.deadLetters(driver.consumer.name), '-', '+')) as [string, string[]][]
      const deadLetterIds = dead.map(([, f]) => f[f.indexOf('id') + 1] as string)
      driver.poison.clear()
      const summary = await redeliverDeadLetters(driver.bus, { consumers: [driver.consumer], all: true })
      plan.trace?.push(`the poison is fixed; re-delivering the dead letters: ${summary.delivered} delivered, ${summary.duplicates} duplicate(s), ${summary.failed} failed`)
      const obs = await observe(driver, driver.consumer, causeOf)
      warnEmits(h, driver.consumer, obs)
      return { obs, driver, consumer: driver.consumer, dispose, beforeRecovery: { obs: before, deadLetterIds, summary } }
    }
    const obs = await observe(driver, driver.consumer, causeOf)
    warnEmits(h, driver.consumer, obs)
    return { obs, driver, consumer: driver.consumer, dispose }
  } catch (error) {
    await dispose()
    throw error
  }
}

function warnEmits(h: Harness, consumer: ConsumerDefinition, obs: Observation): void {
  const warning = emitsMismatch(consumer, obs)
  if (warning !== undefined) h.warn?.(warning)
}
