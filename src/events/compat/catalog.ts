import type { ContractRegistry } from '../contracts.js'

/**
 * Who takes part in the event flow, as the code declares it: a consumer definition (`name`,
 * `subscribes`, `emits`) fits as it is; an intake that only publishes has no `subscribes`.
 */
export interface Participant {
  readonly name: string
  readonly subscribes?: readonly string[]
  readonly emits?: readonly string[]
}

export interface CatalogVersion {
  readonly version: number
  /** What the event means at this version (the schema's description). */
  readonly description: string
  readonly file: string
  readonly schema: object
  /** For v2 and later: whether an upcaster lifts the previous version to this one; null for v1. */
  readonly upcasterFromPrevious: boolean | null
}

export interface CatalogType {
  readonly type: string
  readonly latestVersion: number
  /** The meaning at the latest version. */
  readonly description: string
  /** From the code: participants that emit this type, sorted. */
  readonly producers: readonly string[]
  /** From the code: participants that subscribe to this type, sorted. */
  readonly consumers: readonly string[]
  /** What the latest schema declares (`x-producers`, `x-consumers`), for comparison with the code. */
  readonly declared: { readonly producers: readonly string[]; readonly consumers: readonly string[] }
  readonly versions: readonly CatalogVersion[]
}

/** Every contract with its producers and consumers taken from the code. */
export interface Catalog {
  readonly types: readonly CatalogType[]
  /** Types that the code emits or subscribes to but that have no contract. */
  readonly uncontracted: readonly { readonly participant: string; readonly type: string; readonly role: 'producer' | 'consumer' }[]
}

/** Builds the catalog from a registry (with its upcasters registered) and the participants in the code. */
export function buildCatalog(options: { registry: ContractRegistry; participants: readonly Participant[] }): Catalog {
  const { registry, participants } = options
  const uncontracted: { participant: string; type: string; role: 'producer' | 'consumer' }[] = []
  for (const p of participants) {
    for (const type of p.emits ?? []) if (!registry.has(type)) uncontracted.push({ participant: p.name, type, role: 'producer' })
    for (const type of p.subscribes ?? []) if (!registry.has(type)) uncontracted.push({ participant: p.name, type, role: 'consumer' })
  }
  const types: CatalogType[] = []
  for (const type of registry.types()) {
    const latestVersion = registry.latestVersion(type) ?? 1
    const latest = registry.get(type, latestVersion)
    const versions: CatalogVersion[] = []
    for (const version of registry.versions(type)) {
      const contract = registry.get(type, version)
      if (contract === undefined) continue
      versions.push({
        version,
        description: contract.description,
        file: contract.file,
        schema: contract.schema,
        upcasterFromPrevious: version === 1 ? null : registry.hasUpcaster(type, version - 1),
      })
    }
    types.push({
      type,
      latestVersion,
      description: latest?.description ?? '',
      producers: names(participants.filter((p) => p.emits?.includes(type))),
      consumers: names(participants.filter((p) => p.subscribes?.includes(type))),
      declared: { producers: [...(latest?.producers ?? [])], consumers: [...(latest?.consumers ?? [])] },
      versions,
    })
  }
  return { types, uncontracted }
}

function names(participants: readonly Participant[]): string[] {
  return [...new Set(participants.map((p) => p.name))].sort()
}

/** The catalog as lines for a terminal: each type, its meaning, versions, producers and consumers. */
export function formatCatalog(catalog: Catalog): string {
  const lines: string[] = []
  for (const t of catalog.types) {
    const versions = t.versions.map((v) => `v${v.version}${v.upcasterFromPrevious === false ? ' (no upcaster!)' : ''}`).join(', ')
    lines.push(`${t.type}  [${versions}]`)
    if (t.versions.length === 1) lines.push(`  ${t.description}`)
    else for (const v of t.versions) lines.push(`  v${v.version}: ${v.description}`)
    lines.push(`  producers: ${list(t.producers)}${differs(t.producers, t.declared.producers) ? `   (schema says: ${list(t.declared.producers)})` : ''}`)
    lines.push(`  consumers: ${list(t.consumers)}${differs(t.consumers, t.declared.consumers) ? `   (schema says: ${list(t.declared.consumers)})` : ''}`)
    lines.push('')
  }
  for (const u of catalog.uncontracted) lines.push(`Warning: ${u.participant} ${u.role === 'producer' ? 'emits' : 'subscribes to'} ${u.type}, which has no contract.`)
  return lines.join('\n').trimEnd()
}

const list = (values: readonly string[]): string => (values.length === 0 ? '(none)' : values.join(', '))

function differs(code: readonly string[], declared: readonly string[]): boolean {
  if (declared.length === 0) return false
  return [...code].sort().join('\n') !== [...declared].sort().join('\n')
}
