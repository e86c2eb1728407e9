import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs'
import { join, relative, resolve, sep } from 'node:path'
import { EventspineError } from '../../errors.js'
import type { ContractRegistry } from '../contracts.js'

/** Schemas by type, then version, with where each came from (a file, or `ref:path`). */
export type SchemaSet = ReadonlyMap<string, ReadonlyMap<number, { readonly schema: unknown; readonly source: string }>>

/** The contracts to compare against: a label for people and the schemas. */
export interface Baseline {
  readonly label: string
  readonly schemas: SchemaSet
}

const VERSION_FILE = /^v([1-9][0-9]{0,5})\.schema\.json$/

/** The schemas of a loaded registry, in the same shape as a baseline. */
export function schemasOf(registry: ContractRegistry): SchemaSet {
  const out = new Map<string, Map<number, { schema: unknown; source: string }>>()
  for (const type of registry.types()) {
    const byVersion = new Map<number, { schema: unknown; source: string }>()
    for (const version of registry.versions(type)) {
      const contract = registry.get(type, version)
      if (contract !== undefined) byVersion.set(version, { schema: contract.schema, source: contract.file })
    }
    out.set(type, byVersion)
  }
  return out
}

/**
 * Reads the baseline: `against` is a folder of contracts (`<type>/v<N>.schema.json`), or else a
 * git ref (commit, branch, tag, `HEAD~1`), at which each of `dirs` is read from the repository
 * that holds it (`git ls-tree` + `git show`), without touching the working tree.
 */
export function readBaseline(options: { against: string; dirs: readonly string[]; cwd?: string }): Baseline {
  const cwd = options.cwd ?? process.cwd()
  const asDir = resolve(cwd, options.against)
  if (existsSync(asDir) && statSync(asDir).isDirectory()) {
    return { label: asDir, schemas: readFolder(asDir) }
  }
  const ref = options.against
  const merged = new Map<string, Map<number, { schema: unknown; source: string }>>()
  for (const dir of options.dirs) {
    for (const [type, byVersion] of readAtRef(ref, dir)) {
      const into = merged.get(type) ?? new Map<number, { schema: unknown; source: string }>()
      for (const [version, entry] of byVersion) into.set(version, entry)
      merged.set(type, into)
    }
  }
  return { label: `git ${ref}`, schemas: merged }
}

function readFolder(dir: string): SchemaSet {
  const out = new Map<string, Map<number, { schema: unknown; source: string }>>()
  for (const type of readdirSync(dir).sort()) {
    const typeDir = join(dir, type)
    if (type.startsWith('.') || !statSync(typeDir).isDirectory()) continue
    for (const name of readdirSync(typeDir)) {
      const version = VERSION_FILE.exec(name)?.[1]
      if (version === undefined) continue
      const file = join(typeDir, name)
      add(out, type, Number(version), parse(readFileSync(file, 'utf8'), file), file)
    }
  }
  return out
}

function add(into: Map<string, Map<number, { schema: unknown; source: string }>>, type: string, version: number, schema: unknown, source: string): void {
  const byVersion = into.get(type) ?? new Map<number, { schema: unknown; source: string }>()
  byVersion.set(version, { schema, source })
  into.set(type, byVersion)
}

function parse(text: string, source: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    throw baselineError(`the baseline contract ${source} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`, 'Fix the baseline, or compare against another folder or ref.')
  }
}

function readAtRef(ref: string, dir: string): SchemaSet {
  if (ref.startsWith('-') || ref.trim() === '') {
    throw baselineError(`"${ref}" is neither a folder nor a git ref`, 'Pass --against <folder of contracts> or a git ref such as HEAD or main.')
  }
  const real = realpathSync(dir)
  const root = git(['rev-parse', '--show-toplevel'], real, () =>
    baselineError(`"${ref}" is not a folder, and ${dir} is not in a git repository`, 'Pass --against <folder of contracts>, or run inside the repository that holds the contracts.'),
  ).trim()
  git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], root, () =>
    baselineError(`"${ref}" is neither a folder nor a commit of the repository at ${root}`, 'Pass --against <folder of contracts> or a git ref such as HEAD, main or HEAD~1 (a shallow clone may lack it: fetch it first).'),
  )
  const rel = relative(realpathSync(root), real).split(sep).join('/')
  const prefix = rel === '' ? '' : `${rel}/`
  const listing = git(['ls-tree', '-r', '-z', '--name-only', ref, '--', rel === '' ? '.' : rel], root, () => baselineError(`cannot list ${rel} at ${ref}`, 'Check the ref.'))
  const out = new Map<string, Map<number, { schema: unknown; source: string }>>()
  for (const path of listing.split('\0')) {
    if (!path.startsWith(prefix)) continue
    const [type, name, ...rest] = path.slice(prefix.length).split('/')
    const version = VERSION_FILE.exec(name ?? '')?.[1]
    if (type === undefined || version === undefined || rest.length > 0) continue
    const source = `${ref}:${path}`
    add(out, type, Number(version), parse(git(['show', source], root, () => baselineError(`cannot read ${source}`, 'Check the ref.')), source), source)
  }
  return out
}

function git(args: string[], cwd: string, onError: () => EventspineError): string {
  try {
    return execFileSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (error) {
    const failure = onError()
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw baselineError('git is not installed (needed to read a baseline from a git ref)', 'Install git, or pass --against <folder of contracts>.')
    }
    throw failure
  }
}

function baselineError(message: string, hint: string): EventspineError {
  return new EventspineError('E_SCHEMA_BASELINE', message, { hint })
}
