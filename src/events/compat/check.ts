import type { ContractRegistry } from '../contracts.js'
import { schemasOf, type Baseline } from './baseline.js'
import { combine, meets, type Compatibility, type SchemaChange } from './compatibility.js'
import { diffSchemas } from './schema-diff.js'

/** What an edit of an existing version must stay: `full` by default (see {@link checkContracts}). */
export type RequiredLevel = Exclude<Compatibility, 'breaking'>

/** One type@version compared with the baseline (or, for a new version, with the previous one). */
export interface VersionCheck {
  readonly type: string
  readonly version: number
  /** `changed` and `unchanged` compare the same version in the baseline; `new` compares with v-1. */
  readonly status: 'unchanged' | 'changed' | 'new' | 'removed'
  readonly compatibility: Compatibility
  /** e.g. `baseline v1` or `v1` (the previous version of a new one); absent for a new type. */
  readonly comparedWith?: string
  readonly changes: readonly SchemaChange[]
}

/** Why the check fails, naming type, version and the JSON path in the payload. */
export interface CompatibilityProblem {
  readonly type: string
  readonly version: number
  readonly path: string
  readonly reason: string
}

export interface CompatibilityReport {
  readonly ok: boolean
  readonly baseline: string
  readonly level: RequiredLevel
  readonly versions: readonly VersionCheck[]
  readonly problems: readonly CompatibilityProblem[]
}

export interface CompatibilityOptions {
  /** The contracts as they are now, with every upcaster registered. */
  readonly registry: ContractRegistry
  readonly baseline: Baseline
  /** What an in-place edit of an existing version must stay. Default `full`. */
  readonly level?: RequiredLevel
  /**
   * What a running pipeline still uses (`schema check --registry`): per type and version, the
   * registered consumers written for it and the events stored as it. With it, a version may be
   * dropped once neither is left; without it, dropping one is always refused.
   */
  readonly inUse?: VersionsInUse
}

/** Per type, per version: who reads it and how many stored events have it. */
export interface VersionsInUse {
  readonly readers: Readonly<Record<string, Readonly<Record<number, readonly string[]>>>>
  readonly stored: Readonly<Record<string, Readonly<Record<number, number>>>>
}

/**
 * Compares the contracts with a baseline. Fails when:
 * - an existing version was edited in place and the edit is not `level`-compatible (a version
 *   number is a promise to the events already stored under it and to the readers already
 *   deployed: a breaking edit needs a new version);
 * - a version after v1 has no upcaster from the previous version (stored events could not be read);
 * - a version or type in the baseline is gone (its stored events could no longer be read).
 * New versions are classified against their previous version for information.
 */
export function checkContracts(options: CompatibilityOptions): CompatibilityReport {
  const level = options.level ?? 'full'
  const { registry } = options
  const current = schemasOf(registry)
  const before = options.baseline.schemas
  const versions: VersionCheck[] = []
  const problems: CompatibilityProblem[] = []
  for (const type of [...new Set([...current.keys(), ...before.keys()])].sort()) {
    const now = current.get(type) ?? new Map()
    const then = before.get(type) ?? new Map()
    const all = [...new Set([...now.keys(), ...then.keys()])].sort((x, y) => x - y)
    const latest = Math.max(...all)
    for (const version of all) {
      const mine = now.get(version)
      const theirs = then.get(version)
      if (mine === undefined) {
        versions.push({ type, version, status: 'removed', compatibility: 'breaking', comparedWith: `baseline v${version}`, changes: [] })
        const what = now.size === 0 ? `the type was removed` : `v${version} was removed`
        const reason = removalProblem(options.inUse, type, version)
        if (reason !== undefined) problems.push({ type, version, path: '/', reason: `${what}: ${reason}` })
        continue
      }
      if (version > 1 && now.has(version - 1) && !registry.hasUpcaster(type, version - 1)) {
        problems.push({
          type, version, path: '/',
          reason: `no upcaster from v${version - 1} to v${version}: events stored as v${version - 1} cannot be read as v${version}; register one with registry.registerUpcaster('${type}', ${version - 1}, (payload) => ({ ... }))`,
        })
      }
      // A previous version the baseline had was removed: the removal rules above judge that.
      if (version > 1 && !now.has(version - 1) && !then.has(version - 1)) {
        problems.push({ type, version, path: '/', reason: `v${version} exists but v${version - 1} does not: versions must follow one another` })
      }
      if (theirs !== undefined) {
        const changes = diffSchemas(theirs.schema, mine.schema)
        const compatibility = combine(changes)
        versions.push({ type, version, status: changes.length === 0 ? 'unchanged' : 'changed', compatibility, comparedWith: `baseline v${version}`, changes })
        if (!meets(compatibility, level)) {
          for (const change of changes.filter((c) => !meets(c.compatibility, level))) {
            problems.push({
              type, version, path: change.path,
              reason: `${change.reason} [${change.compatibility}; an edit of an existing version must be ${level}: publish the change as v${latest + 1} with an upcaster from v${latest}]`,
            })
          }
        }
        continue
      }
      const previous = now.get(version - 1)
      if (previous === undefined) {
        versions.push({ type, version, status: 'new', compatibility: 'full', changes: [] })
        continue
      }
      const changes = diffSchemas(previous.schema, mine.schema)
      versions.push({ type, version, status: 'new', compatibility: combine(changes), comparedWith: `v${version - 1}`, changes })
    }
  }
  return { ok: problems.length === 0, baseline: options.baseline.label, level, versions, problems }
}

/** Why dropping `type` v`version` is refused, or undefined when nothing uses it any more. */
function removalProblem(inUse: VersionsInUse | undefined, type: string, version: number): string | undefined {
  if (inUse === undefined) return `events stored as v${version} could no longer be validated or upcast; keep the contract file`
  const readers = inUse.readers[type]?.[version] ?? []
  if (readers.length > 0) return `registered consumers still read v${version}: ${readers.join(', ')} (move them first; \`pipeline schema adoption\` shows who is left)`
  const stored = inUse.stored[type]?.[version] ?? 0
  if (stored > 0) return `${stored} events stored as v${version} remain in the stream and could no longer be validated or upcast; keep the contract until retention trims them`
  return undefined
}

/** The report as lines for a terminal: changed and new versions with their changes, then the problems. */
export function formatCompatibilityReport(report: CompatibilityReport): string {
  const lines: string[] = [`Contracts compared with ${report.baseline} (edits of existing versions must be ${report.level}):`]
  for (const v of report.versions) {
    const against = v.comparedWith === undefined ? '' : ` vs ${v.comparedWith}`
    lines.push(`  ${v.type} v${v.version}: ${v.status}${v.status === 'unchanged' ? '' : `, ${v.compatibility}${against}`}`)
    for (const change of v.changes) lines.push(`      ${change.compatibility.padEnd(8)} ${change.path}  ${change.reason}`)
  }
  if (report.problems.length === 0) {
    lines.push('', 'OK: no breaking edit of an existing version, and every version has its upcaster.')
  } else {
    lines.push('', `${report.problems.length} problem(s):`)
    for (const p of report.problems) lines.push(`  ${p.type} v${p.version} ${p.path}: ${p.reason}`)
  }
  return lines.join('\n')
}
