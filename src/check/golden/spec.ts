import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { ContractChecker } from '../../bus/contracts.js'
import type { ConsumerDefinition } from '../../bus/types.js'
import { EventspineError, errorMessage } from '../../errors.js'
import { defaultContractsDir, loadContracts } from '../../events/index.js'
import type { CheckEnv, ConsumerUnderTest } from '../types.js'
import { compare, storedValue, type Expected, type StateValue } from './expect.js'
import { runGolden, type GoldenRun, type InputEvent } from './run.js'

/** What was true before the inputs: the consumer's state by name, and events it handled already (their emits are not compared). */
export interface Given {
  readonly state?: Readonly<Record<string, StateValue>>
  readonly events?: readonly InputEvent[]
}

/** One golden case: given, when, then. */
export interface GoldenCase {
  readonly name: string
  readonly given?: Given
  readonly when: readonly InputEvent[]
  readonly then: Expected
}

export interface CaseResult {
  readonly name: string
  readonly passed: boolean
  /** Why it failed: the diff of expected and actual, or what stopped the run (a bad input, a given event dead-lettered). */
  readonly failure: string | null
  readonly durationMs: number
  /** Undefined when the run could not start (an input breaking its contract). */
  readonly run?: GoldenRun
}

export interface GoldenOptions {
  /** Default: the shipped contracts plus `contractsDir`. */
  readonly contracts?: ContractChecker
  /** Folders of your contracts (`<type>/v<N>.schema.json`), beside the shipped ones. */
  readonly contractsDir?: string | readonly string[]
}

const registries = new Map<string, ContractChecker>()

/** The contracts for a set of folders, compiled once per process (compiling is most of a small case's cost). */
export function goldenContracts(dirs: readonly string[] = []): ContractChecker {
  const all = [defaultContractsDir(), ...dirs.map((d) => resolve(d))]
  const memo = all.join('\0')
  let registry = registries.get(memo)
  if (registry === undefined) registries.set(memo, (registry = loadContracts(all)))
  return registry
}

/** Runs one case against a consumer definition: never throws for a failing case, only reports it. */
export async function runCase(consumer: ConsumerDefinition, c: GoldenCase, contracts: ContractChecker): Promise<CaseResult> {
  const started = performance.now()
  const done = (failure: string | null, run?: GoldenRun): CaseResult => ({ name: c.name, passed: failure === null, failure, durationMs: performance.now() - started, ...(run ? { run } : {}) })
  let run: GoldenRun
  try {
    run = await runGolden(consumer, {
      contracts,
      state: new Map(Object.entries(c.given?.state ?? {}).map(([name, value]) => [name, storedValue(value)])),
      given: c.given?.events ?? [],
      when: c.when,
    })
  } catch (error) {
    return done(errorMessage(error))
  }
  const stuck = run.inputs.find((i) => i.phase === 'given' && i.outcome === 'dead-lettered')
  if (stuck) return done(`given event #${stuck.index} (${stuck.event.type}) was dead-lettered after ${stuck.attempts} attempt(s): ${stuck.errors.at(-1) ?? ''}`, run)
  return done(compare(c.then, run, c.then.inspect === undefined ? undefined : await consumer.inspect?.()), run)
}

/** A definition from a consumer or a factory, with the scratch folder a factory gets; `dispose` removes it. */
export async function instantiate(consumer: ConsumerUnderTest): Promise<{ definition: ConsumerDefinition; dispose: () => Promise<void> }> {
  if (typeof consumer !== 'function') return { definition: consumer, dispose: async () => {} }
  const tmpDir = await mkdtemp(join(tmpdir(), 'eventspine-golden-'))
  // No Redis in a golden run: a factory that connects on its own has nothing to reach.
  const env: CheckEnv = { tmpDir, namespace: 'golden', redisUrl: '' }
  return { definition: consumer(env), dispose: () => rm(tmpDir, { recursive: true, force: true }) }
}

/**
 * Given/when/then for one consumer, as Emmett's DeciderSpecification, without Redis:
 *
 * ```ts
 * await given(scoreConsumer(), { state: { 'last-nav': { LU0000000001: { navDate: '2026-11-24', nav: 101.5 } } } })
 *   .when({ type: 'pipeline.file.validated', key: 'f1', payload })
 *   .then({ emits: [{ type: 'pipeline.file.scored', key: 'f1', payloadIncludes: { score: 100 } }] })
 * ```
 *
 * `then` rejects with an Error whose message is the diff of expected and actual.
 */
export function given(consumer: ConsumerUnderTest, prior: Given = {}, options: GoldenOptions = {}): { when(...events: readonly InputEvent[]): { then(expected: Expected): Promise<void> } } {
  return {
    when: (...events) => ({
      then(expected, ...rest: unknown[]) {
        // `await spec.when(...)` without `.then(...)` calls this as a thenable's then(resolve, reject).
        if (typeof expected === 'function') {
          const misuse = new TypeError('golden spec: call .then({ emits, state }) with what you expect; do not await .when(...) itself')
          if (typeof rest[0] === 'function') (rest[0] as (e: unknown) => void)(misuse)
          return Promise.resolve()
        }
        return check(consumer, prior, events, expected, options)
      },
    }),
  }
}

async function check(consumer: ConsumerUnderTest, prior: Given, events: readonly InputEvent[], expected: Expected, options: GoldenOptions): Promise<void> {
  const dirs = options.contractsDir === undefined ? [] : typeof options.contractsDir === 'string' ? [options.contractsDir] : options.contractsDir
  const contracts = options.contracts ?? goldenContracts(dirs)
  const { definition, dispose } = await instantiate(consumer)
  try {
    const result = await runCase(definition, { name: definition.name, given: prior, when: events, then: expected }, contracts)
    if (result.failure !== null) throw new EventspineError('E_GOLDEN_MISMATCH', `golden case of ${definition.name} failed:\n${result.failure}`)
  } finally {
    await dispose()
  }
}
