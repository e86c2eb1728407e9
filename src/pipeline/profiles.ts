import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { EventspineError } from '../errors.js'
import { DATE_FORMATS, type DateFormat } from './rules/dates.js'
import type { NumberFormat } from './rules/numbers.js'

/**
 * How one data provider writes its files, kept as JSON data in `fixtures/mapping-profiles/`.
 * `signatures`: alternative sets of header columns; a header that has every column of one set
 * comes from this provider. `columns`: provider column -> canonical field (matched ignoring
 * case and surrounding spaces).
 */
export interface MappingProfile {
  readonly provider: string
  readonly description?: string
  readonly signatures: readonly (readonly string[])[]
  readonly columns: Readonly<Record<string, string>>
  readonly dateFormat: DateFormat
  readonly decimalSeparator: NumberFormat['decimal']
  readonly thousandsSeparator: NumberFormat['thousands']
}

/** Used when no provider signature matches: canonical column names, ISO dates, dot decimals. */
export const GENERIC_PROFILE: MappingProfile = {
  provider: 'generic',
  description: 'Canonical field names as columns (JSON files and hand-made CSVs).',
  signatures: [],
  columns: {},
  dateFormat: 'YYYY-MM-DD',
  decimalSeparator: '.',
  thousandsSeparator: '',
}

export function normaliseColumn(name: string): string {
  return name.trim().toLowerCase().replace(/\s+/g, ' ')
}

/** Checks one parsed profile document; throws naming the file and the field at fault. */
export function parseProfile(doc: unknown, where: string): MappingProfile {
  const fail = (what: string): never => {
    throw new EventspineError('E_MAPPING_PROFILE', `mapping profile ${where}: ${what}`, {
      hint: 'A profile is JSON: provider, signatures (arrays of header columns), columns (provider column -> canonical field), dateFormat, decimalSeparator, thousandsSeparator. See fixtures/mapping-profiles/.',
      details: { file: where },
    })
  }
  if (typeof doc !== 'object' || doc === null) return fail('is not a JSON object')
  const p = doc as Record<string, unknown>
  if (typeof p.provider !== 'string' || !/^[a-z0-9-]+$/.test(p.provider)) fail('"provider" must be a lower-case name')
  if (!Array.isArray(p.signatures) || !p.signatures.every((s) => Array.isArray(s) && s.every((c) => typeof c === 'string'))) {
    fail('"signatures" must be an array of arrays of column names')
  }
  if (typeof p.columns !== 'object' || p.columns === null || !Object.values(p.columns).every((v) => typeof v === 'string')) {
    fail('"columns" must map provider columns to canonical field names')
  }
  if (!DATE_FORMATS.includes(p.dateFormat as DateFormat)) fail(`"dateFormat" must be one of ${DATE_FORMATS.join(', ')}`)
  if (p.decimalSeparator !== '.' && p.decimalSeparator !== ',') fail('"decimalSeparator" must be "." or ","')
  if (!['', ',', '.', ' ', "'"].includes(p.thousandsSeparator as string)) fail('"thousandsSeparator" must be "", ",", ".", " " or "\'"')
  if (p.thousandsSeparator === p.decimalSeparator) fail('decimal and thousands separators must differ')
  return doc as MappingProfile
}

/** Loads every `*.json` profile in `dir`, sorted by file name so detection order is stable. Throws `E_MAPPING_PROFILE`. */
export function loadProfiles(dir: string): MappingProfile[] {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch (error) {
    throw new EventspineError('E_MAPPING_PROFILE', `cannot read the mapping profiles folder ${dir}`, { hint: 'Pass a folder of provider profiles (*.json).', cause: error })
  }
  return names
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      let doc: unknown
      try {
        doc = JSON.parse(readFileSync(join(dir, f), 'utf8'))
      } catch (error) {
        throw new EventspineError('E_MAPPING_PROFILE', `mapping profile ${f} is not valid JSON`, { details: { file: f }, cause: error })
      }
      return parseProfile(doc, f)
    })
}

/** The first profile one of whose signatures the header fully contains; generic otherwise. */
export function detectProfile(header: readonly string[], profiles: readonly MappingProfile[]): MappingProfile {
  const have = new Set(header.map(normaliseColumn))
  for (const profile of profiles) {
    if (profile.signatures.some((sig) => sig.length > 0 && sig.every((c) => have.has(normaliseColumn(c))))) return profile
  }
  return GENERIC_PROFILE
}

export function findProfile(provider: string, profiles: readonly MappingProfile[]): MappingProfile | null {
  if (provider === GENERIC_PROFILE.provider) return GENERIC_PROFILE
  return profiles.find((p) => p.provider === provider) ?? null
}

/** The canonical field a header column maps to under `profile`, or null (unmapped). */
export function canonicalName(column: string, profile: MappingProfile, canonical: ReadonlySet<string>): string | null {
  const key = normaliseColumn(column)
  for (const [from, to] of Object.entries(profile.columns)) {
    if (normaliseColumn(from) === key) return to
  }
  // Canonical names are accepted from every provider (case-insensitive), so JSON exports map too.
  for (const name of canonical) if (name.toLowerCase() === key) return name
  return null
}
