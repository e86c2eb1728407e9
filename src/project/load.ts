import { existsSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { tmpdir } from 'node:os'
import type { ConsumerDefinition } from '../bus/types.js'
import type { CheckTarget } from '../check/check.js'
import type { InputModel } from '../check/inputs.js'
import { EventspineError, errorMessage } from '../errors.js'
import { defaultContractsDir, loadContracts } from '../events/index.js'
import { listingHost, shippedContracts, type HostEnv, type PipelineSource } from '../pipeline/source.js'
import { isPreset, type ConsumerEntry, type ConsumerFactory, type ConsumerPreset, type PipelineConfig } from './define.js'
import { fundPipeline } from './fund.js'
import { importedUrls, importFresh, importModule, isDefinition, projectFiles } from './import.js'

export const CONFIG_FILES = ['pipeline.config.ts', 'pipeline.config.mts', 'pipeline.config.mjs', 'pipeline.config.js'] as const

/** The nearest `pipeline.config.{ts,mts,mjs,js}` in `dir` or a folder above it. */
export function findConfig(dir: string): string | undefined {
  for (let at = resolve(dir); ; at = dirname(at)) {
    const found = CONFIG_FILES.map((f) => join(at, f)).find((p) => existsSync(p))
    if (found !== undefined || dirname(at) === at) return found
  }
}

/** The pipeline a project runs: what its config lists, checked, or the built-in one. */
export interface Project extends PipelineSource {
  /** The config's folder, else the folder the command ran in. */
  readonly dir: string
  /** The project's own files the config imported (known when it went through tsx; else empty). */
  readonly files: readonly string[]
  /** Consumer names, in order (a replaced preset stage keeps its place). */
  readonly names: readonly string[]
  /** Problems worth saying that are not errors, e.g. a type nothing here produces. */
  readonly warnings: readonly string[]
  /** Consumers of the project that are not from a preset (the team's own). */
  readonly own: readonly string[]
  readonly inputs: Readonly<Record<string, InputModel>>
  /** Targets for `pipeline fuzz`: presets' stages with their realistic inputs, the rest as listed. */
  fuzzTargets(): Promise<CheckTarget[]>
}

export interface LoadProjectOptions {
  /** Where to look for the config (and above). Default: the current folder. */
  readonly cwd?: string
  /** An explicit config file (`--config`, PIPELINE_CONFIG): must exist. */
  readonly configPath?: string | undefined
  /** Reload: import the config and everything it imports afresh (generation > 0), telling each file loaded. */
  readonly fresh?: { readonly generation: number; readonly onImport: (url: string) => void }
}

/**
 * Finds, imports and checks the project's config. No config: the built-in fund pipeline, as every
 * command ran before configs. A broken config is an error naming the file and the fix.
 */
export async function loadProject(options: LoadProjectOptions = {}): Promise<Project> {
  const cwd = resolve(options.cwd ?? process.cwd())
  const file = options.configPath === undefined ? findConfig(cwd) : resolve(cwd, options.configPath)
  if (file === undefined) return projectOf({ consumers: [fundPipeline()] }, undefined, cwd)
  if (!existsSync(file)) {
    throw new EventspineError('E_CONFIG', `config file ${file} does not exist`, { hint: 'Pass the path of your pipeline.config.ts (--config or PIPELINE_CONFIG), or run `pipeline init` to make one.' })
  }
  let mod: Record<string, unknown>
  try {
    mod = options.fresh === undefined ? await importModule(file) : await importFresh(file, options.fresh.generation, options.fresh.onImport)
  } catch (error) {
    // Our own errors (a preset's bad option, no TypeScript loader) already say what to do.
    if (error instanceof EventspineError) throw error
    const at = projectFrame(error, dirname(file))
    throw new EventspineError('E_CONFIG_IMPORT', `${file} failed to load: ${errorMessage(error)}${at === undefined ? '' : ` (at ${at})`}`, {
      hint: `Fix the error in ${at ?? (relative(cwd, file) || file)}: the config and every module it imports run when a command loads it.`,
      cause: error,
    })
  }
  // A plain import of a .ts config went through tsx, which told what it imported; a fresh one tells its caller.
  const files = options.fresh === undefined ? projectFiles(importedUrls(), dirname(file)) : []
  return projectOf(configOf(mod, file), file, dirname(file), { generation: options.fresh?.generation ?? 0, files })
}

/** The first stack frame inside the project (not its node_modules): where the user's code threw. */
function projectFrame(error: unknown, dir: string): string | undefined {
  const stack = error instanceof Error ? (error.stack ?? '') : ''
  for (const line of stack.split('\n').slice(1)) {
    const match = /(?:file:\/\/)?(\/[^():]+):(\d+):\d+\)?\s*$/.exec(line)
    if (match && match[1]!.startsWith(dir) && !match[1]!.includes('/node_modules/')) return `${relative(process.cwd(), match[1]!) || match[1]}:${match[2]}`
  }
  return undefined
}

function configOf(mod: Record<string, unknown>, file: string): PipelineConfig {
  const config = (mod.default ?? mod) as Partial<PipelineConfig>
  if (config === null || typeof config !== 'object' || !Array.isArray(config.consumers)) {
    throw new EventspineError('E_CONFIG', `${file} exports no pipeline config (a default export with a consumers list)`, {
      hint: "Export it as: export default defineConfig({ consumers: [fundPipeline(), myConsumer] }) (import { defineConfig, fundPipeline } from 'eventspine').",
    })
  }
  config.consumers.forEach((entry: unknown, i) => {
    if (!isPreset(entry) && typeof entry !== 'function' && !isDefinition(entry)) {
      throw new EventspineError('E_CONFIG', `consumers[${i}] in ${file} is not a consumer: ${describe(entry)}`, {
        hint: 'List definitions from defineConsumer, factories (env) => definition, or presets such as fundPipeline().',
      })
    }
  })
  return config as PipelineConfig
}

function describe(value: unknown): string {
  if (value === undefined || value === null) return String(value) + ' (an import that is not exported?)'
  if (typeof value !== 'object') return `a ${typeof value}`
  const keys = Object.keys(value)
  return keys.length === 0 ? 'an empty object' : `an object with ${keys.slice(0, 5).join(', ')}`
}

/** One entry of the config's consumers: a preset, or one of the team's own with its position (for messages). */
type Slot = { readonly kind: 'preset'; readonly preset: ConsumerPreset } | { readonly kind: 'own'; readonly entry: ConsumerDefinition | ConsumerFactory; readonly index: number }

function projectOf(config: PipelineConfig, file: string | undefined, dir: string, loaded: { generation: number; files: readonly string[] } = { generation: 0, files: [] }): Project {
  const { generation, files } = loaded
  const where = file ?? 'the built-in pipeline'
  const slots: Slot[] = config.consumers.map((entry: ConsumerEntry, index) => (isPreset(entry) ? { kind: 'preset', preset: entry } : { kind: 'own', entry, index }))
  const presets = slots.flatMap((s) => (s.kind === 'preset' ? [s.preset] : []))
  const contractsDirs = (config.contracts === undefined ? [] : typeof config.contracts === 'string' ? [config.contracts] : [...config.contracts]).map((d) => resolve(dir, d))
  const envOf = (host: HostEnv) => ({ tmpDir: host.tmpDir, namespace: host.namespace, redisUrl: host.redisUrl, ...(host.clock ? { clock: host.clock } : {}) })

  // The team's own consumers, built once per host, with the config position each came from.
  const buildOwn = (host: HostEnv) =>
    slots.flatMap((s) => (s.kind === 'own' ? [{ index: s.index, definition: typeof s.entry === 'function' ? s.entry(envOf(host)) : s.entry }] : []))

  const assemble = (host: HostEnv): { consumers: ConsumerDefinition[]; own: string[] } => {
    const own = buildOwn(host)
    const byName = new Map<string, number>()
    for (const { index, definition } of own) {
      if (!isDefinition(definition)) throw new EventspineError('E_CONFIG', `consumers[${index}] in ${where} is a factory that returned ${describe(definition)}`, { hint: 'A factory returns a definition from defineConsumer.' })
      const first = byName.get(definition.name)
      if (first !== undefined) {
        throw new EventspineError('E_CONFIG_DUPLICATE', `consumers[${first}] and consumers[${index}] in ${where} are both named "${definition.name}"`, {
          hint: 'A name is a consumer group, its state and its dead letters: give each consumer its own name (to replace a preset stage, list one consumer of that name).',
        })
      }
      byName.set(definition.name, index)
    }
    const ownByName = new Map(own.map((o) => [o.definition.name, o.definition]))
    const placed = new Set<string>()
    const out: ConsumerDefinition[] = []
    for (const slot of slots) {
      if (slot.kind === 'preset') {
        for (const stage of slot.preset.build(host, dir)) {
          const replacement = ownByName.get(stage.name)
          out.push(replacement ?? stage)
          if (replacement) placed.add(stage.name)
        }
      } else {
        const definition = own.find((o) => o.index === slot.index)!.definition
        if (!placed.has(definition.name)) out.push(definition)
      }
    }
    const names = new Set<string>()
    for (const c of out) {
      if (names.has(c.name)) throw new EventspineError('E_CONFIG_DUPLICATE', `two presets in ${where} both have a consumer named "${c.name}"`, { hint: 'List each preset once, or leave the stage out of one of them (without: [...]).' })
      names.add(c.name)
    }
    return { consumers: out, own: own.map((o) => o.definition.name) }
  }
  const build = (host: HostEnv) => assemble(host).consumers

  // Checked once now, on consumers built for listing: a broken config fails before anything runs.
  // The built-in pipeline (no file) is known good: compiling every contract would only slow commands.
  const { consumers: listed, own } = assemble(listingHost())
  const intakeEmits = [...new Set(presets.flatMap((p) => p.intakeEmits))]
  const produced = new Set([...intakeEmits, ...listed.flatMap((c) => c.emits ?? [])])
  const warnings: string[] = []
  const registry = file === undefined ? undefined : loadContracts([defaultContractsDir(), ...contractsDirs])
  const contracts = () => registry ?? shippedContracts()
  for (const c of registry === undefined ? [] : listed) {
    for (const type of c.subscribes) {
      if (!registry!.has(type)) {
        const folder = contractsDirs[0] === undefined ? 'a contracts folder' : relative(process.cwd(), contractsDirs[0]) || contractsDirs[0]
        throw new EventspineError('E_CONFIG_NO_CONTRACT', `consumer "${c.name}" in ${where} reads ${type}, which has no contract`, {
          hint: `Add ${join(folder, type, 'v1.schema.json')}${contractsDirs.length === 0 ? " and list the folder in the config (contracts: './contracts')" : ''}, or fix the type's spelling.`,
        })
      }
      if (!produced.has(type)) warnings.push(`nothing in ${where} emits ${type}, which ${c.name} reads: another service must publish it`)
    }
  }
  const inputs = config.inputs ?? {}

  return {
    file,
    dir,
    files,
    names: listed.map((c) => c.name),
    own,
    warnings,
    inputs,
    contractsDirs,
    contracts,
    ...(config.outbox === undefined ? {} : { outbox: config.outbox }),
    endings: [...new Set(presets.flatMap((p) => p.endings))],
    intakeEmits,
    consumers: build,
    // A preset's stages are eventspine's code: the same while its options are. The team's own may
    // have changed in any file the config imports, so a new generation is new code.
    fingerprint: (name) => presets.find((p) => p.names.includes(name) && !own.includes(name))?.fingerprint ?? `own:${generation}:${name}`,
    async fuzzTargets() {
      const probe: HostEnv = { ...listingHost(), tmpDir: tmpdir() }
      const ownNames = new Set(own)
      const targets: CheckTarget[] = []
      for (const slot of slots) {
        if (slot.kind === 'preset') targets.push(...(await slot.preset.fuzzTargets(slot.preset.names.filter((n) => !ownNames.has(n)), dir)))
        else {
          const name = typeof slot.entry === 'function' ? slot.entry(envOf(probe)).name : slot.entry.name
          const model = inputs[name]
          targets.push({ consumer: slot.entry, ...(model ? { inputs: model } : {}) })
        }
      }
      return targets
    },
  }
}
