import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { faker } from '@faker-js/faker'
import fc from 'fast-check'
import { DEFAULT_RETRY } from '../bus/retry.js'
import { checkRunTag, deleteNamespaces } from '../bus/scratch.js'
import { withScripts } from '../bus/scripts.js'
import type { ConsumerDefinition } from '../bus/types.js'
import { EventspineError } from '../errors.js'
import { connect } from '../redis/connect.js'
import { defaultContractsDir, loadContracts } from '../events/index.js'
import type { ContractRegistry } from '../events/contracts.js'
import { contractInputs, finalise, type InputModel } from './inputs.js'
import { propertySpec } from './properties.js'
import { describeEvent, type Harness } from './run.js'
import { PROPERTIES, type CheckEnv, type CheckEvent, type ConsumerUnderTest, type Counterexample, type PropertyName, type PropertyResult } from './types.js'

export interface CheckOptions {
  /** The Redis to run on (each run in a namespace of its own, deleted afterwards). */
  readonly redisUrl: string
  /** Runs per property. Default 100. */
  readonly runs?: number
  /** Default: FC_SEED from the environment, else random. Printed with every failure; seeds faker too. */
  readonly seed?: number
  /** fast-check's replay path of a counterexample (from a failure report): re-runs just that case. */
  readonly path?: string
  /** Default: all five. */
  readonly properties?: readonly PropertyName[]
  /** Contracts for generated payloads and validation. Default: the shipped ones plus `contractsDir`. */
  readonly contracts?: ContractRegistry
  /** The user's contract folders (`<type>/v<N>.schema.json`), beside the shipped ones. */
  readonly contractsDir?: string | readonly string[]
  /** Most input events per run. Default 6 (8 for the built-in pipeline). */
  readonly maxEvents?: number
  /**
   * Ordering schedules may also lose the consumer group while its streams stay (the runner's
   * NOGROUP recovery). Default on; false leaves that fault out.
   */
  readonly groupLoss?: boolean
  /** Ctrl-C: every run not yet started fails at once, so the check ends soon and deletes its namespaces as a finished one does. */
  readonly signal?: AbortSignal
}

/** One consumer to check, with where its inputs come from (default: its contracts). */
export interface CheckTarget {
  readonly consumer: ConsumerUnderTest
  readonly inputs?: InputModel
}

export interface CheckReport {
  readonly passed: boolean
  readonly seed: number
  readonly results: readonly PropertyResult[]
}

export function resolveSeed(seed: number | undefined): number {
  if (seed !== undefined) return seed
  const fromEnv = process.env['FC_SEED']
  if (fromEnv !== undefined && fromEnv !== '' && Number.isFinite(Number(fromEnv))) return Number(fromEnv)
  return Math.floor(Math.random() * 2 ** 31)
}

/**
 * Checks one consumer against the five properties on a real Redis:
 * `expect((await checkConsumer(myConsumer, { redisUrl })).passed).toBe(true)`.
 */
export async function checkConsumer(consumer: ConsumerUnderTest, options: CheckOptions & { readonly inputs?: InputModel }): Promise<CheckReport> {
  return checkConsumers([{ consumer, ...(options.inputs ? { inputs: options.inputs } : {}) }], options)
}

/** Checks several consumers; each property of each consumer is its own fast-check run. */
export async function checkConsumers(targets: readonly CheckTarget[], options: CheckOptions, onResult?: (r: PropertyResult) => void): Promise<CheckReport> {
  const seed = resolveSeed(options.seed)
  faker.seed(seed)
  const dirs = options.contractsDir === undefined ? [] : typeof options.contractsDir === 'string' ? [options.contractsDir] : options.contractsDir
  const registry = options.contracts ?? loadContracts([defaultContractsDir(), ...dirs])
  const tmpRoot = await mkdtemp(join(tmpdir(), 'eventspine-check-'))
  const runTag = checkRunTag()
  const samples = targets.map((target) => {
    const make = typeof target.consumer === 'function' ? target.consumer : () => target.consumer as Exclude<ConsumerUnderTest, (env: CheckEnv) => unknown>
    return { target, make, sample: make({ tmpDir: tmpRoot, namespace: `${runTag}-sample`, redisUrl: options.redisUrl }) }
  })
  try {
    for (const { sample } of samples) requireContracts(sample, registry)
  } catch (error) {
    await rm(tmpRoot, { recursive: true, force: true })
    throw error
  }
  // A Redis or a Cluster, whichever the URL names.
  const redis = withScripts(
    await connect(options.redisUrl, { longLived: false, redisOptions: { maxRetriesPerRequest: 3 } }).catch(async (error: unknown) => {
      await rm(tmpRoot, { recursive: true, force: true })
      throw error
    }),
  )
  let counter = 0
  const results: PropertyResult[] = []
  try {
    // Every consumer x property at once: each run waits on Redis round trips, so many runs in
    // flight keep one connection busy (pipelined) where one after the other would idle.
    const jobs = samples.flatMap(({ target, make, sample }) => {
      const maxEvents = options.maxEvents ?? 6
      const inputs = target.inputs ?? contractInputs(registry, {}, maxEvents)
      const events = inputs.events(sample).map((drafts) => finalise(drafts, registry))
      const h: Harness = { name: sample.name, make, redis, registry, retry: DEFAULT_RETRY, tmpRoot, redisUrl: options.redisUrl, namespace: () => {
        options.signal?.throwIfAborted()
        return `${runTag}-${counter++}`
      } }
      return (options.properties ?? PROPERTIES).map((property) => async () => {
        const result = await checkProperty(h, property, events, seed, options, Math.max(maxEvents, 8))
        results.push(result)
        onResult?.(result)
      })
    })
    // Every job settles before the namespaces are swept: one failing (or Ctrl-C) must not leave
    // the others writing into namespaces already deleted.
    const settled = await Promise.allSettled(jobs.map((job) => job()))
    const failed = settled.find((s) => s.status === 'rejected')
    if (failed !== undefined) throw failed.reason
  } finally {
    await deleteNamespaces(redis, `${runTag}-*`)
    redis.disconnect()
    await rm(tmpRoot, { recursive: true, force: true })
  }
  const order = (r: PropertyResult) => PROPERTIES.indexOf(r.property)
  const sorted = [...results].sort((a, b) => a.consumer.localeCompare(b.consumer) || order(a) - order(b))
  return { passed: sorted.every((r) => r.passed), seed, results: sorted }
}

/**
 * Every subscribed type needs a contract (inputs are generated from it and validated on
 * publish): without one, each property would fail on its first publish, so this is a setup
 * error, said once and before anything runs.
 */
function requireContracts(consumer: ConsumerDefinition, registry: ContractRegistry): void {
  const missing = consumer.subscribes.filter((type) => registry.latestVersion(type) === undefined)
  if (missing.length === 0) return
  throw new EventspineError('E_CHECK_NO_CONTRACT', `consumer ${consumer.name} subscribes to ${missing.join(', ')}, which ha${missing.length === 1 ? 's' : 've'} no contract`, {
    hint: `Add ${missing.map((t) => `${t}/v1.schema.json`).join(', ')} to a contracts folder and pass it: pipeline fuzz --contracts DIR (or contracts: 'DIR' in pipeline.config, or contractsDir in checkConsumer).`,
    details: { consumer: consumer.name, types: missing },
  })
}

async function checkProperty(base: Harness, property: PropertyName, events: fc.Arbitrary<CheckEvent[]>, seed: number, options: CheckOptions, maxEvents: number): Promise<PropertyResult> {
  const started = performance.now()
  const warnings = new Set<string>()
  const h: Harness = { ...base, warn: (message) => void warnings.add(message) }
  const sample = h.make({ tmpDir: h.tmpRoot, namespace: 'sample', redisUrl: h.redisUrl })
  // A path is fast-check's run path, then `~` and the commands' replay path when the case has a schedule.
  const [runPath, replayPath] = (options.path ?? '').split('~')
  const spec = propertySpec(property, h, sample, events, maxEvents, replayPath || undefined, options.groupLoss ?? true)
  const details = await fc.check(spec.property, { numRuns: options.runs ?? 100, seed, ...(runPath ? { path: runPath } : {}) })
  let counterexample: Counterexample | null = null
  if (details.failed && details.counterexample) {
    const [list, extra] = details.counterexample
    const rerun = await spec.story(list, extra)
    counterexample = {
      events: list.map((e, i) => `${describeEvent(e, i)}: ${summarise(e.payload)}`),
      schedule: extra !== null && typeof extra === 'object' ? scheduleLines(String(extra)) : [`poison #${(extra as number) % list.length}`],
      story: rerun.story,
      failure: rerun.failure ?? errorText(details.errorInstance),
      path: `${details.counterexamplePath ?? ''}${replayPathOf(extra)}`,
    }
  }
  return {
    consumer: h.name,
    property,
    passed: !details.failed,
    runs: details.numRuns,
    seed,
    ...(spec.note ? { note: spec.note } : {}),
    ...(warnings.size > 0 ? { warnings: [...warnings] } : {}),
    counterexample,
    durationMs: Math.round(performance.now() - started),
  }
}

function scheduleLines(text: string): string[] {
  const lines = text
    .replace(/\/\*replayPath=.*?\*\//g, '')
    .split(/,(?![^(]*\))/)
    .map((s) => s.trim())
    .filter(Boolean)
  return lines.length > 0 ? lines : ['(no steps: every event published, then drained)']
}

function replayPathOf(extra: unknown): string {
  const match = extra !== null && typeof extra === 'object' ? /replayPath="([^"]*)"/.exec(String(extra)) : null
  return match ? `~${match[1]}` : ''
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** A line about a payload: the fund fields people recognise, else clipped JSON. */
function summarise(payload: unknown): string {
  if (payload !== null && typeof payload === 'object') {
    const p = payload as Record<string, unknown>
    if (typeof p.fileName === 'string') {
      const records = Array.isArray(p.records) ? `, ${p.records.length} record(s)` : ''
      const extra = typeof p.stage === 'string' ? `, rejected at ${p.stage}` : typeof p.score === 'number' ? `, score ${p.score}` : ''
      return `${p.fileName}${typeof p.kind === 'string' ? ` (${p.kind}${records})` : ''}${extra}`
    }
  }
  const text = JSON.stringify(payload) ?? 'undefined'
  return text.length > 120 ? `${text.slice(0, 120)}…` : text
}
