import { fileURLToPath } from 'node:url'
import { EventspineError, type ErrorCode } from '../errors.js'
import { readContractDirs, type CompiledContract, type Contract } from './contract-files.js'
import type { EventEnvelope } from './envelope.js'
import { UpcasterChain, type Upcaster } from './upcasters.js'
import { formatViolations, toViolations } from './violations.js'

export type { Contract } from './contract-files.js'
export type { Upcaster } from './upcasters.js'
export type { ContractViolation } from './violations.js'

/** The event contracts of a pipeline: schemas by type and version, validators and upcasters. */
export interface ContractRegistry {
  /** Every known event type, sorted. */
  types(): string[]
  /** The versions of a type, ascending; empty for an unknown type. */
  versions(type: string): number[]
  latestVersion(type: string): number | undefined
  get(type: string, version: number): Contract | undefined
  has(type: string): boolean
  /**
   * Throws `E_CONTRACT` when the payload breaks the contract (the message names type@version
   * and every failing path with its reason; `details.errors` is `[{ path, reason }]`), or
   * `E_CONTRACT_UNKNOWN` when there is no such type or version (the hint lists known types).
   * `where` prefixes the message, e.g. "publish" or "read from stream X".
   */
  validate(type: string, version: number, payload: unknown, where?: string): void
  /**
   * Lifts an event to the latest version of its type through the registered upcasters
   * (v1 -> v2 -> v3) and returns a new envelope; returns the SAME object when there is
   * nothing to lift (already latest, a newer version than known, or an unknown type, which
   * `validate` then reports). A missing step throws `E_CONTRACT_UPCAST`. Does not validate.
   */
  upcast(event: EventEnvelope): EventEnvelope
  /**
   * Registers the lift from `fromVersion` to `fromVersion + 1`. Both contracts must exist
   * (`E_CONTRACT_UNKNOWN` otherwise); a second lift for the same step is `E_CONTRACT_UPCAST`.
   */
  registerUpcaster(type: string, fromVersion: number, lift: Upcaster): void
  /** True when the lift from `fromVersion` to `fromVersion + 1` is registered (for `schema check`). */
  hasUpcaster(type: string, fromVersion: number): boolean
  /**
   * A new registry with the contracts of extra folders merged in (for user contracts) and a
   * copy of this registry's upcasters. A type@version defined twice is `E_CONTRACT_FILE`.
   */
  withFolders(dir: string | readonly string[]): ContractRegistry
}

/** Stable error codes thrown by the contract registry (test them with `hasCode`). */
export const ContractErrorCode = {
  Invalid: 'E_CONTRACT',
  Unknown: 'E_CONTRACT_UNKNOWN',
  Upcast: 'E_CONTRACT_UPCAST',
  File: 'E_CONTRACT_FILE',
} as const satisfies Record<string, ErrorCode>

/**
 * Absolute path of the package's `contracts/` folder. This file sits one level below the
 * root both as `src/events/` (vitest, tsx) and as `dist/events/` (after tsc).
 */
export function defaultContractsDir(): string {
  return fileURLToPath(new URL('../../contracts', import.meta.url))
}

/**
 * Loads every `<dir>/<type>/v<N>.schema.json` and compiles each schema once. Synchronous, for
 * start-up. Throws `E_CONTRACT_FILE` naming the file for a bad schema, a misnamed file or a
 * type@version defined in two folders.
 */
export function loadContracts(dir: string | readonly string[]): ContractRegistry {
  const dirs = typeof dir === 'string' ? [dir] : [...dir]
  return new Registry(index(readContractDirs(dirs), new Map()), new UpcasterChain())
}

// type -> entries indexed by version: validate() looks up without building a key string.
type Index = Map<string, Array<CompiledContract | undefined>>

function index(compiled: readonly CompiledContract[], into: Index): Index {
  for (const entry of compiled) {
    const { type, version, file } = entry.contract
    let byVersion = into.get(type)
    if (byVersion === undefined) {
      byVersion = []
      into.set(type, byVersion)
    }
    const existing = byVersion[version]
    if (existing !== undefined) {
      throw new EventspineError('E_CONTRACT_FILE', `${type}@${version} is defined twice: ${existing.contract.file} and ${file}`, {
        hint: 'Keep one schema per type and version; a changed contract is a new version.',
        details: { file, other: existing.contract.file },
      })
    }
    byVersion[version] = entry
  }
  return into
}

class Registry implements ContractRegistry {
  private readonly latest = new Map<string, number>()
  private readonly sortedTypes: readonly string[]

  constructor(
    private readonly byType: Index,
    private readonly upcasters: UpcasterChain,
  ) {
    for (const [type, byVersion] of byType) this.latest.set(type, byVersion.length - 1)
    this.sortedTypes = [...byType.keys()].sort()
  }

  types(): string[] {
    return [...this.sortedTypes]
  }

  versions(type: string): number[] {
    const out: number[] = []
    const byVersion = this.byType.get(type) ?? []
    for (let version = 1; version < byVersion.length; version++) {
      if (byVersion[version] !== undefined) out.push(version)
    }
    return out
  }

  latestVersion(type: string): number | undefined {
    return this.latest.get(type)
  }

  get(type: string, version: number): Contract | undefined {
    return this.byType.get(type)?.[version]?.contract
  }

  has(type: string): boolean {
    return this.byType.has(type)
  }

  validate(type: string, version: number, payload: unknown, where?: string): void {
    const entry = this.byType.get(type)?.[version]
    if (entry === undefined) throw this.unknown(type, version, where)
    if (entry.check(payload)) return
    const errors = toViolations(entry.check.errors ?? [])
    const { file } = entry.contract
    throw new EventspineError(
      'E_CONTRACT',
      `${prefix(where)}${type}@${version} payload breaks its contract: ${formatViolations(errors)}`,
      {
        hint: `The contract is ${file}. Fix the producer, or publish a new version of the contract.`,
        details: { type, version, file, errors },
      },
    )
  }

  upcast(event: EventEnvelope): EventEnvelope {
    const latest = this.latest.get(event.type)
    if (latest === undefined || event.version >= latest) return event
    return this.upcasters.lift(event, latest)
  }

  registerUpcaster(type: string, fromVersion: number, lift: Upcaster): void {
    if (!Number.isInteger(fromVersion) || this.get(type, fromVersion) === undefined) {
      throw this.unknown(type, fromVersion, `upcaster from v${fromVersion}`)
    }
    if (this.get(type, fromVersion + 1) === undefined) {
      throw this.unknown(type, fromVersion + 1, `upcaster to v${fromVersion + 1}`)
    }
    this.upcasters.add(type, fromVersion, lift)
  }

  hasUpcaster(type: string, fromVersion: number): boolean {
    return this.upcasters.has(type, fromVersion)
  }

  withFolders(dir: string | readonly string[]): ContractRegistry {
    const merged: Index = new Map([...this.byType].map(([type, byVersion]) => [type, [...byVersion]]))
    index(readContractDirs(typeof dir === 'string' ? [dir] : dir), merged)
    return new Registry(merged, this.upcasters.clone())
  }

  private unknown(type: string, version: number, where: string | undefined): EventspineError {
    const known = this.sortedTypes.length === 0 ? '(none)' : this.sortedTypes.join(', ')
    const byVersion = this.byType.get(type)
    const message =
      byVersion === undefined
        ? `${prefix(where)}no contract for event type "${type}"`
        : `${prefix(where)}no contract for ${type}@${version} (known versions: ${this.versions(type).join(', ')})`
    return new EventspineError('E_CONTRACT_UNKNOWN', message, {
      hint: `Known event types: ${known}. Add contracts/<type>/v<N>.schema.json for a new type or version.`,
      details: { type, version, knownTypes: [...this.sortedTypes] },
    })
  }
}

function prefix(where: string | undefined): string {
  return where === undefined || where === '' ? '' : `${where}: `
}
