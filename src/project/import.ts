import { existsSync } from 'node:fs'
import { extname, resolve, sep } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { EventspineError } from '../errors.js'

/**
 * Imports a config or consumer module. Plain JS (`.js`, `.mjs`) is imported as is. A `.ts` file
 * needs a TypeScript loader at run time: tsx's ESM API is registered when tsx is installed in
 * the user's project (it stays a devDependency of eventspine: a CLI should not ship esbuild to
 * every user for one optional file); without it the error says what to do.
 */
export async function importModule(path: string): Promise<Record<string, unknown>> {
  const absolute = resolve(path)
  if (!existsSync(absolute)) throw new EventspineError('E_CHECK_MODULE', `${path} does not exist`, { hint: 'Pass a path to a built .js/.mjs module (or a .ts file with tsx installed).' })
  if (isTypeScript(absolute)) await registerTsx(absolute)
  return (await import(pathToFileURL(absolute).href)) as Record<string, unknown>
}

export function isTypeScript(path: string): boolean {
  return ['.ts', '.mts', '.cts'].includes(extname(path))
}

/**
 * Imports a module and everything it imports afresh, past Node's module cache (which never
 * forgets a module), reporting each file it loads: how `up` reloads a changed config. Each call
 * is a tsx namespace of its own; its loader is unregistered once the graph is in. Needs tsx,
 * for `.js` configs too: plain Node cannot re-import a module's imports.
 */
export async function importFresh(path: string, generation: number, onImport: (url: string) => void): Promise<Record<string, unknown>> {
  const absolute = resolve(path)
  let api: { register: (options: { namespace: string; onImport?: (url: string) => void }) => { import: (specifier: string, parent: string) => Promise<unknown>; unregister: () => Promise<void> } }
  try {
    api = (await import('tsx/esm/api')) as typeof api
  } catch {
    throw new EventspineError('E_CHECK_TS_LOADER', 'reloading the config needs tsx, which could not be found', { hint: 'Install tsx in your project (npm i -D tsx) for `pipeline up` to reload changed consumers.' })
  }
  const scope = api.register({ namespace: `eventspine-reload-${generation}`, onImport })
  try {
    return (await scope.import(pathToFileURL(absolute).href, import.meta.url)) as Record<string, unknown>
  } finally {
    await scope.unregister()
  }
}

let tsxRegistered = false
const imported = new Set<string>()

/** Every file URL tsx has loaded in this process (what a `.ts` config imported, among others). */
export function importedUrls(): readonly string[] {
  return [...imported]
}

/** The project's own files (under its folder, not in node_modules) among module URLs. */
export function projectFiles(urls: readonly string[], dir: string): string[] {
  const files = urls.filter((u) => u.startsWith('file:')).map((u) => fileURLToPath(u.replace(/\?.*$/, '')))
  return [...new Set(files.filter((f) => f.startsWith(dir + sep) && !f.includes(`${sep}node_modules${sep}`)))].sort()
}

async function registerTsx(file: string): Promise<void> {
  if (tsxRegistered) return
  try {
    const api = (await import('tsx/esm/api')) as { register: (options: { onImport: (url: string) => void }) => unknown }
    api.register({ onImport: (url) => void imported.add(url) })
    tsxRegistered = true
  } catch {
    throw new EventspineError('E_CHECK_TS_LOADER', `${file} is TypeScript, and no TypeScript loader (tsx) could be found`, {
      hint: 'Install tsx in your project (npm i -D tsx), or build the file to JavaScript and pass the .js/.mjs path.',
    })
  }
}

/** Consumers a module exports: its default (one, a factory, or a list), else every named export that is a consumer definition. */
export async function loadConsumerModule(path: string): Promise<{ consumer: unknown }[]> {
  const mod = await importModule(path)
  const fromDefault = mod.default
  const list: unknown[] = Array.isArray(fromDefault) ? fromDefault : fromDefault !== undefined ? [fromDefault] : Object.values(mod).filter(isDefinition)
  const targets = list.filter((v) => isDefinition(v) || typeof v === 'function').map((consumer) => ({ consumer }))
  if (targets.length === 0) {
    throw new EventspineError('E_CHECK_MODULE', `${path} exports no consumer`, { hint: 'Export a consumer from defineConsumer (default or named), or a factory (env) => consumer as default.' })
  }
  return targets
}

export function isDefinition(v: unknown): boolean {
  return v !== null && typeof v === 'object' && typeof (v as { name?: unknown }).name === 'string' && Array.isArray((v as { subscribes?: unknown }).subscribes) && typeof (v as { handle?: unknown }).handle === 'function'
}
