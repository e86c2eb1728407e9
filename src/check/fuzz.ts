import { resolve } from 'node:path'
import { checkConsumers, resolveSeed, type CheckReport, type CheckTarget } from './check.js'
import { reproduceCommand, shellQuote } from './report.js'
import type { PropertyName, PropertyResult } from './types.js'

export interface FuzzOptions {
  readonly redisUrl: string
  /** The consumers to check (src/project/fuzz-targets.ts chooses them from the config and --consumer). */
  readonly targets: readonly CheckTarget[]
  /** What to pass to `--consumer` to re-run each consumer (its name, or the module path). */
  readonly consumerArgs: Readonly<Record<string, string>>
  /** The project config's contract folders. */
  readonly configContracts?: readonly string[]
  readonly properties?: readonly PropertyName[]
  readonly runs?: number
  readonly seed?: number
  readonly path?: string
  readonly groupLoss?: boolean
  /** Folders of the user's contracts (`<type>/v<N>.schema.json`), beside the config's and the shipped ones. */
  readonly contracts?: readonly string[]
  readonly onResult?: (result: PropertyResult) => void
  /** Ctrl-C: the check stops early and deletes its namespaces. */
  readonly signal?: AbortSignal
}

export interface FuzzReport extends CheckReport {
  readonly runs: number
  readonly durationMs: number
  /** What to pass to `--consumer` to re-run each consumer (its name, or the module path). */
  readonly consumerArgs: Readonly<Record<string, string>>
}

/** `pipeline fuzz`: checks the chosen consumers, and says how to re-run each failure. */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const started = performance.now()
  const runs = options.runs ?? 100
  const seed = resolveSeed(options.seed)
  const { targets, consumerArgs } = options
  const contractsDirs = [...(options.configContracts ?? []), ...(options.contracts ?? []).map((dir) => resolve(dir))]
  const report = await checkConsumers(targets, {
    redisUrl: options.redisUrl,
    runs,
    seed,
    ...(options.path ? { path: options.path } : {}),
    ...(options.groupLoss === undefined ? {} : { groupLoss: options.groupLoss }),
    ...(options.properties ? { properties: options.properties } : {}),
    ...(contractsDirs.length > 0 ? { contractsDir: contractsDirs } : {}),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  }, options.onResult)
  // What the re-run needs besides consumer, property, seed and path: the same contracts and schedules.
  const extra = `${(options.contracts ?? []).map((dir) => ` --contracts ${shellQuote(dir)}`).join('')}${options.groupLoss === false ? ' --no-group-loss' : ''}`
  const results = report.results.map((r) => (r.passed ? r : { ...r, reproduce: reproduceCommand(r, consumerArgs[r.consumer] ?? r.consumer, runs, extra) }))
  return { ...report, results, runs, durationMs: Math.round(performance.now() - started), consumerArgs }
}
