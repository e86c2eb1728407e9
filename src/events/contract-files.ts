import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { Ajv, type Options, type ValidateFunction } from 'ajv'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import { EventspineError } from '../errors.js'

/** An event type's contract at one version, as read from `<dir>/<type>/v<N>.schema.json`. */
export interface Contract {
  readonly type: string
  readonly version: number
  /** What the event means (the semantic contract), from the schema's `description`. */
  readonly description: string
  /** The parsed JSON Schema, frozen. */
  readonly schema: object
  /** Absolute path of the schema file. */
  readonly file: string
  /** From `x-producers`: who emits it (for the catalog). */
  readonly producers: readonly string[]
  /** From `x-consumers`: who reads it (for the catalog). */
  readonly consumers: readonly string[]
}

/** A contract with its validator, compiled once. */
export interface CompiledContract {
  readonly contract: Contract
  readonly check: ValidateFunction
}

const VERSION_FILE = /^v([1-9][0-9]{0,5})\.schema\.json$/
// Near misses (`v1.json`, `v01.schema.json`, `mapped.schema.json`) are refused, not skipped.
const LOOKS_LIKE_SCHEMA = /(^v[0-9].*\.json$)|(\.schema\.json$)/
// Types name Redis streams, so keep them to characters that are safe in a key.
const TYPE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/
const DRAFT_07 = /^https?:\/\/json-schema\.org\/draft-07\/schema#?$/
const DRAFT_2020 = /^https?:\/\/json-schema\.org\/draft\/2020-12\/schema#?$/

// Strict about typos in keywords (a misspelt `required` would silently allow anything), quiet
// about type-inference nits that would only print warnings.
const AJV_OPTIONS: Options = {
  allErrors: true,
  strictSchema: true,
  strictNumbers: true,
  strictTypes: false,
  strictTuples: false,
  strictRequired: false,
}

type Engine = Ajv | Ajv2020

/** Schema compilers for one load: one per draft, created when first needed. */
class Engines {
  private draft07: Ajv | undefined
  private draft2020: Ajv2020 | undefined

  for(schemaUri: unknown, file: string): Engine {
    if (schemaUri === undefined || (typeof schemaUri === 'string' && DRAFT_2020.test(schemaUri))) {
      return (this.draft2020 ??= withFormats(new Ajv2020(AJV_OPTIONS)))
    }
    if (typeof schemaUri === 'string' && DRAFT_07.test(schemaUri)) {
      return (this.draft07 ??= withFormats(new Ajv(AJV_OPTIONS)))
    }
    throw fileError(file, `has "$schema": ${JSON.stringify(schemaUri)}, which is not supported`, {
      hint: 'Use "https://json-schema.org/draft/2020-12/schema" or "http://json-schema.org/draft-07/schema#".',
    })
  }
}

function withFormats<A extends Engine>(ajv: A): A {
  addFormats.default(ajv)
  return ajv
}

function fileError(file: string, problem: string, options: { hint?: string; cause?: unknown } = {}): EventspineError {
  return new EventspineError('E_CONTRACT_FILE', `contract file ${file} ${problem}`, {
    hint: options.hint ?? 'Each contract is <contracts>/<type>/v<N>.schema.json: a JSON Schema with title = type and a description of what the event means.',
    details: { file },
    ...(options.cause === undefined ? {} : { cause: options.cause }),
  })
}

/** Reads and compiles every contract under the given folders; throws E_CONTRACT_FILE on the first bad one. */
export function readContractDirs(dirs: readonly string[]): CompiledContract[] {
  const engines = new Engines()
  const out: CompiledContract[] = []
  for (const dir of dirs.map((d) => resolve(d))) {
    for (const { type, version, file } of listSchemaFiles(dir)) {
      out.push(compileFile(engines, type, version, file))
    }
  }
  return out
}

function listSchemaFiles(dir: string): { type: string; version: number; file: string }[] {
  let entries
  try {
    entries = readdirSync(dir, { withFileTypes: true })
  } catch (error) {
    throw new EventspineError('E_CONTRACT_FILE', `cannot read the contracts folder ${dir}`, {
      hint: 'Pass an existing folder that holds <type>/v<N>.schema.json files.',
      details: { dir },
      cause: error,
    })
  }
  const found: { type: string; version: number; file: string }[] = []
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, entry.name)
    if (entry.name.startsWith('.')) continue
    if (!isDirectory(entry, path)) {
      // READMEs and exports may sit here; a schema here would be silently unused.
      if (entry.name.endsWith('.schema.json')) throw fileError(path, 'is not inside a <type>/ folder')
      continue
    }
    if (!TYPE_NAME.test(entry.name)) {
      throw fileError(path, 'is a folder whose name is not a valid event type', {
        hint: 'Event types use letters, digits, dots, dashes and underscores, e.g. pipeline.file.mapped.',
      })
    }
    for (const name of readdirSync(path).sort()) {
      const match = VERSION_FILE.exec(name)
      if (match?.[1] !== undefined) {
        found.push({ type: entry.name, version: Number(match[1]), file: join(path, name) })
      } else if (LOOKS_LIKE_SCHEMA.test(name)) {
        throw fileError(join(path, name), 'is not named v<N>.schema.json (N = 1, 2, ...)')
      }
    }
  }
  return found
}

function isDirectory(entry: { isDirectory(): boolean; isSymbolicLink(): boolean }, path: string): boolean {
  if (entry.isDirectory()) return true
  // A dangling link is not a folder.
  return entry.isSymbolicLink() && (statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false)
}

function compileFile(engines: Engines, type: string, version: number, file: string): CompiledContract {
  let schema: unknown
  try {
    schema = JSON.parse(readFileSync(file, 'utf8'))
  } catch (error) {
    throw fileError(file, `is not valid JSON: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
  }
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    throw fileError(file, 'is not a JSON Schema object')
  }
  const s = schema as Record<string, unknown>
  if (s.title !== type) {
    throw fileError(file, `has title ${JSON.stringify(s.title)}; it must be the event type "${type}" (its folder name)`)
  }
  if (typeof s.description !== 'string' || s.description.trim() === '') {
    throw fileError(file, 'has no description', {
      hint: 'Add a "description" that says what the event means (a sentence of meaning, not a list of fields).',
    })
  }
  const producers = stringList(s, 'x-producers', file)
  const consumers = stringList(s, 'x-consumers', file)
  const engine = engines.for(s.$schema, file)
  let check: ValidateFunction
  try {
    allowAnnotations(engine, s)
    // The engine already matches the draft; without `$schema` an http/https spelling of it cannot trip ajv.
    const { $schema: _draft, ...body } = s
    check = engine.compile(body)
  } catch (error) {
    throw fileError(file, `is not a valid JSON Schema: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
  }
  const contract: Contract = {
    type,
    version,
    description: s.description.trim(),
    schema: deepFreeze(s),
    file,
    producers,
    consumers,
  }
  return { contract, check }
}

function stringList(schema: Record<string, unknown>, keyword: string, file: string): readonly string[] {
  const value = schema[keyword]
  if (value === undefined) return []
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw fileError(file, `has "${keyword}" that is not an array of strings`)
  }
  return Object.freeze([...(value as string[])])
}

// ajv's getKeyword does not see annotation-only keywords, so remember what was declared.
const declared = new WeakMap<Engine, Set<string>>()

// Strict schemas refuse unknown keywords; `x-*` ones are our annotations, so declare them.
function allowAnnotations(engine: Engine, value: unknown): void {
  if (typeof value !== 'object' || value === null) return
  let names = declared.get(engine)
  if (names === undefined) declared.set(engine, (names = new Set()))
  for (const [key, child] of Object.entries(value)) {
    if (key.startsWith('x-') && !names.has(key)) {
      engine.addKeyword(key)
      names.add(key)
    }
    allowAnnotations(engine, child)
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) deepFreeze(child)
  }
  return value
}
