import { tmpdir } from 'node:os'
import { unknownNameError } from '../names.js'
import { resolve } from 'node:path'
import { EventspineError } from '../errors.js'
import { builtinConsumerNames, builtinTargets } from './builtin/index.js'
import { checkConsumers, resolveSeed, type CheckReport, type CheckTarget } from './check.js'
import { findConfig, loadConfig, loadConsumerModule } from './config.js'
import { reproduceCommand, shellQuote } from './report.js'
import type { CheckEnv, PropertyName, PropertyResult } from './types.js'

export interface FuzzOptions {
  readonly redisUrl: string
  /** Built-in consumer names, names from the config, or paths of modules exporting consumers. Default: the config's consumers, else the built-in pipeline. */
  readonly consumers?: readonly string[]
  readonly properties?: readonly PropertyName[]
  readonly runs?: number
  readonly seed?: number
  readonly path?: string
  readonly groupLoss?: boolean
  /** Folders of the user's contracts (`<type>/v<N>.schema.json`), beside the config's and the shipped ones. */
  readonly contracts?: readonly string[]
  /** Where to look for pipeline.config.{ts,mts,mjs,js}. Default: the current directory. */
  readonly cwd?: string
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

/** `pipeline fuzz`: finds the consumers to check, checks them, and says how to re-run each failure. */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const started = performance.now()
  const runs = options.runs ?? 100
  const seed = resolveSeed(options.seed)
  const { targets, contractsDir, consumerArgs } = await chooseTargets(options)
  const contractsDirs = [...(contractsDir ? [contractsDir] : []), ...(options.contracts ?? []).map((dir) => resolve(dir))]
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

async function chooseTargets(options: FuzzOptions): Promise<{ targets: CheckTarget[]; contractsDir?: string; consumerArgs: Record<string, string> }> {
  const configPath = findConfig(options.cwd ?? process.cwd())
  const config = configPath ? await loadConfig(configPath) : undefined
  const consumerArgs: Record<string, string> = {}
  const named = (target: CheckTarget) => nameOf(target, options.redisUrl)
  const contracts = config?.contractsDir ? { contractsDir: config.contractsDir } : {}
  if (!options.consumers || options.consumers.length === 0) {
    // A config may list no consumers (only contracts) when --consumer names them.
    if (config && config.targets.length === 0) {
      throw new EventspineError('E_CHECK_CONFIG', `${configPath ?? 'pipeline.config'} lists no consumers`, {
        hint: 'Export default { consumers: [myConsumer] } (definitions from defineConsumer, or factories (env) => definition), or pass --consumer.',
      })
    }
    const targets = config ? config.targets : builtinTargets()
    for (const t of targets) consumerArgs[named(t)] = named(t)
    return { targets, ...contracts, consumerArgs }
  }
  const targets: CheckTarget[] = []
  const builtins = new Set(builtinConsumerNames())
  for (const arg of options.consumers) {
    const fromConfig = config?.targets.filter((t) => named(t) === arg) ?? []
    if (fromConfig.length === 0 && !builtins.has(arg) && !looksLikePath(arg)) {
      const known = [...new Set([...(config?.targets.map(named) ?? []), ...builtins])]
      throw unknownNameError('E_CHECK_UNKNOWN_CONSUMER', 'consumer', arg, known, 'Or pass the path of a JS module that exports consumers, e.g. ./dist/ledger.js.')
    }
    const found = fromConfig.length > 0 ? fromConfig : builtins.has(arg) ? builtinTargets([arg]) : await loadConsumerModule(arg)
    for (const t of found) {
      consumerArgs[named(t)] = arg
      targets.push(t)
    }
  }
  return { targets, ...contracts, consumerArgs }
}

/** A module path has a folder or a script extension; anything else was meant as a consumer name. */
function looksLikePath(arg: string): boolean {
  return /[\\/]/.test(arg) || /\.[cm]?[jt]s$/.test(arg)
}

function nameOf(target: CheckTarget, redisUrl: string): string {
  if (typeof target.consumer !== 'function') return target.consumer.name
  const env: CheckEnv = { tmpDir: tmpdir(), namespace: 'probe', redisUrl }
  return target.consumer(env).name
}
