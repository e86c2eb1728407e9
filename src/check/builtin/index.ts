import { readdir, readFile } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import type { ConsumerDefinition } from '../../bus/types.js'
import { pipelineConsumers } from '../../pipeline/index.js'
import { defaultProfilesDir, defaultReferenceDir } from '../../pipeline/paths.js'
import { loadProfiles } from '../../pipeline/profiles.js'
import { loadReferenceData } from '../../pipeline/reference.js'
import type { CheckTarget } from '../check.js'
import type { CheckEnv } from '../types.js'
import { CHECK_NOW, fundInputs, type FundWorld } from './fund.js'

/**
 * The built-in fund pipeline as check targets. This folder is the one place in src/check that
 * knows the pipeline (the harness itself only knows src/bus): it supplies the domain inputs and
 * makes deliver's output folder observable.
 */
const worlds = new Map<string, FundWorld>()
function fundWorld(dirs: BuiltinDirs): () => FundWorld {
  const profilesDir = dirs.profilesDir ?? defaultProfilesDir()
  const referenceDir = dirs.referenceDir ?? defaultReferenceDir()
  const key = `${profilesDir}\0${referenceDir}`
  return () => {
    let world = worlds.get(key)
    if (world === undefined) worlds.set(key, (world = { profiles: loadProfiles(profilesDir), reference: loadReferenceData(referenceDir) }))
    return world
  }
}

/** A project's own mapping profiles and reference data for the fund stages (fundPipeline's options). */
export interface BuiltinDirs {
  readonly profilesDir?: string
  readonly referenceDir?: string
}

export function builtinConsumerNames(): string[] {
  return pipelineConsumers({ outDir: '.' }).map((c) => c.name)
}

export function builtinTargets(names?: readonly string[], dirs: BuiltinDirs = {}): CheckTarget[] {
  const inputs = fundInputs(fundWorld(dirs))
  return builtinConsumerNames()
    .filter((name) => names === undefined || names.includes(name))
    .map((name) => ({ consumer: (env: CheckEnv) => builtinConsumer(name, env, dirs), inputs }))
}

function builtinConsumer(name: string, env: CheckEnv, dirs: BuiltinDirs): ConsumerDefinition {
  const consumer = pipelineConsumers({ ...dirs, outDir: env.tmpDir, clock: () => CHECK_NOW }).find((c) => c.name === name)
  if (!consumer) throw new Error(`no built-in consumer named ${name}`)
  // deliver's effect outside Redis is the files it writes: show them to the harness.
  if (name === 'deliver') return { ...consumer, inspect: () => readTree(env.tmpDir) }
  return consumer
}

/** Every file under `dir` (relative path -> content), sorted. */
export async function readTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  const walk = async (at: string): Promise<void> => {
    for (const entry of await readdir(at, { withFileTypes: true })) {
      const path = join(at, entry.name)
      if (entry.isDirectory()) await walk(path)
      else out[relative(dir, path).split(sep).join('/')] = await readFile(path, 'utf8')
    }
  }
  await walk(dir)
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)))
}
