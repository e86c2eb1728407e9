import { tmpdir } from 'node:os'
import type { CheckTarget } from '../check/check.js'
import type { GoldenProject } from '../check/golden/cases.js'
import type { CheckEnv, ConsumerUnderTest } from '../check/types.js'
import { EventspineError } from '../errors.js'
import { unknownNameError } from '../names.js'
import { loadConsumerModule } from './import.js'
import type { Project } from './load.js'

/**
 * What `pipeline fuzz` checks: every consumer of the project (the built-in pipeline without a
 * config), or the `--consumer` arguments, each a consumer name of the project or a module path.
 */
export async function chooseFuzzTargets(project: Project, args: readonly string[] | undefined, redisUrl: string): Promise<{ targets: CheckTarget[]; consumerArgs: Record<string, string> }> {
  const all = await project.fuzzTargets()
  // A factory's name is known only once built: build each once, not once per use.
  const names = new Map(all.map((t) => [t, nameOf(t.consumer, redisUrl)] as const))
  const named = (target: CheckTarget) => names.get(target) ?? nameOf(target.consumer, redisUrl)
  const consumerArgs: Record<string, string> = {}
  if (args === undefined || args.length === 0) {
    // A config may list no consumers (only contracts) when --consumer names them.
    if (all.length === 0) {
      throw new EventspineError('E_CHECK_CONFIG', `${project.file ?? 'pipeline.config'} lists no consumers`, {
        hint: 'Export default defineConfig({ consumers: [myConsumer] }) (definitions from defineConsumer, or factories (env) => definition), or pass --consumer.',
      })
    }
    for (const t of all) consumerArgs[named(t)] = named(t)
    return { targets: all, consumerArgs }
  }
  const targets: CheckTarget[] = []
  for (const arg of args) {
    const fromProject = all.filter((t) => named(t) === arg)
    if (fromProject.length === 0 && !looksLikePath(arg)) {
      throw unknownNameError('E_CHECK_UNKNOWN_CONSUMER', 'consumer', arg, [...new Set(all.map(named))], 'Or pass the path of a JS module that exports consumers, e.g. ./dist/ledger.js.')
    }
    const found = fromProject.length > 0 ? fromProject : ((await loadConsumerModule(arg)) as { consumer: ConsumerUnderTest }[])
    for (const t of found) {
      consumerArgs[named(t)] = arg
      targets.push(t)
    }
  }
  return { targets, consumerArgs }
}

/** A module path has a folder or a script extension; anything else was meant as a consumer name. */
function looksLikePath(arg: string): boolean {
  return /[\\/]/.test(arg) || /\.[cm]?[jt]s$/.test(arg)
}

function nameOf(consumer: ConsumerUnderTest, redisUrl: string): string {
  if (typeof consumer !== 'function') return consumer.name
  const env: CheckEnv = { tmpDir: tmpdir(), namespace: 'probe', redisUrl }
  return consumer(env).name
}

/** The project's consumers by name, as `pipeline test` runs them: the same consumers fuzz checks (a preset's stages pinned to the harness's clock). */
export async function goldenProject(project: Project): Promise<GoldenProject> {
  const consumers = new Map((await project.fuzzTargets()).map((t) => [nameOf(t.consumer, ''), t.consumer] as const))
  return { dir: project.dir, contractsDirs: project.contractsDirs, contracts: project.contracts(), consumers }
}
