import { existsSync } from 'node:fs'
import { dirname, extname, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { EventspineError } from '../errors.js'
import type { CheckTarget } from './check.js'
import type { InputModel } from './inputs.js'
import type { ConsumerUnderTest } from './types.js'

/** What `pipeline.config.{ts,mjs,js}` exports (default export) for `pipeline fuzz`. */
export interface PipelineConfig {
  /** The user's consumers: definitions, or factories `(env) => definition` for state outside Redis. */
  readonly consumers: readonly ConsumerUnderTest[]
  /** Folder of the user's contracts (`<type>/v<N>.schema.json`), relative to the config file. */
  readonly contracts?: string
  /** Input models per consumer name, where the contracts alone give unrealistic payloads. */
  readonly inputs?: Readonly<Record<string, InputModel>>
}

export const CONFIG_FILES = ['pipeline.config.ts', 'pipeline.config.mts', 'pipeline.config.mjs', 'pipeline.config.js'] as const

export function findConfig(dir: string): string | undefined {
  return CONFIG_FILES.map((f) => resolve(dir, f)).find((p) => existsSync(p))
}

/**
 * Imports a config or consumer module. Plain JS (`.js`, `.mjs`) is imported as is. A `.ts` file
 * needs a TypeScript loader at run time: tsx's ESM API is registered when tsx is installed in
 * the user's project (it stays a devDependency of eventspine: a CLI should not ship esbuild to
 * every user for one optional file); without it the error says what to do.
 */
export async function importModule(path: string): Promise<Record<string, unknown>> {
  const absolute = resolve(path)
  if (!existsSync(absolute)) throw new EventspineError('E_CHECK_MODULE', `${path} does not exist`, { hint: 'Pass a path to a built .js/.mjs module (or a .ts file with tsx installed).' })
  if (['.ts', '.mts', '.cts'].includes(extname(absolute))) await registerTsx(absolute)
  return (await import(pathToFileURL(absolute).href)) as Record<string, unknown>
}

let tsxRegistered = false

async function registerTsx(file: string): Promise<void> {
  if (tsxRegistered) return
  try {
    const api = (await import('tsx/esm/api')) as { register: () => unknown }
    api.register()
    tsxRegistered = true
  } catch {
    throw new EventspineError('E_CHECK_TS_LOADER', `${file} is TypeScript, and no TypeScript loader (tsx) could be found`, {
      hint: 'Install tsx in your project (npm i -D tsx), or build the file to JavaScript and pass the .js/.mjs path.',
    })
  }
}

/** The check targets a config file lists, with its contracts folder resolved. */
export async function loadConfig(path: string): Promise<{ targets: CheckTarget[]; contractsDir?: string }> {
  const mod = await importModule(path)
  const config = (mod.default ?? mod) as Partial<PipelineConfig>
  // An empty list is allowed (a config for its contracts, consumers from --consumer): runFuzz refuses it without --consumer.
  if (!Array.isArray(config.consumers)) {
    throw new EventspineError('E_CHECK_CONFIG', `${path} exports no consumers list`, {
      hint: 'Export default { consumers: [myConsumer] } (definitions from defineConsumer, or factories (env) => definition).',
    })
  }
  const targets = config.consumers.map((consumer) => {
    const name = typeof consumer === 'function' ? undefined : consumer.name
    const inputs = name === undefined ? undefined : config.inputs?.[name]
    return { consumer, ...(inputs ? { inputs } : {}) }
  })
  return { targets, ...(config.contracts ? { contractsDir: resolve(dirname(resolve(path)), config.contracts) } : {}) }
}

/** Consumers a module exports: its default (one, a factory, or a list), else every named export that is a consumer definition. */
export async function loadConsumerModule(path: string): Promise<CheckTarget[]> {
  const mod = await importModule(path)
  const isDefinition = (v: unknown) => v !== null && typeof v === 'object' && typeof (v as { name?: unknown }).name === 'string' && Array.isArray((v as { subscribes?: unknown }).subscribes) && typeof (v as { handle?: unknown }).handle === 'function'
  const fromDefault = mod.default
  const list: unknown[] = Array.isArray(fromDefault) ? fromDefault : fromDefault !== undefined ? [fromDefault] : Object.values(mod).filter(isDefinition)
  const targets = list.filter((v) => isDefinition(v) || typeof v === 'function').map((consumer) => ({ consumer: consumer as ConsumerUnderTest }))
  if (targets.length === 0) {
    throw new EventspineError('E_CHECK_MODULE', `${path} exports no consumer`, { hint: 'Export a consumer from defineConsumer (default or named), or a factory (env) => consumer as default.' })
  }
  return targets
}
