import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { EventspineError } from '../errors.js'
import { DATE_FORMATS, type DateFormat } from './rules/dates.js'
import type { NumberFormat } from './rules/numbers.js'
import { FUND_STANDARDS, type FundStandard } from './types.js'

/**
 * How one data provider writes its files, kept as JSON data in `fixtures/mapping-profiles/`.
 * `signatures`: alternative sets of header columns; a header that has every column of one set
 * comes from this provider. `columns`: provider column -> canonical field (matched ignoring
 * case and surrounding spaces).
 */
export interface MappingProfile {
  readonly provider: string
  /** The fund data standard the profile reads (`fundsxml4`, `emt`, `ept`, `openfunds`): validate applies its rules. */
  readonly standard?: FundStandard
  /** XML files: the root element that identifies them and where their records are. */
  readonly xml?: XmlLayout
  /** Versioned templates (EMT, EPT): mandatory columns per version and code lists. */
  readonly template?: TemplateSpec
  readonly description?: string
  readonly signatures: readonly (readonly string[])[]
  readonly columns: Readonly<Record<string, string>>
  readonly dateFormat: DateFormat
  readonly decimalSeparator: NumberFormat['decimal']
  readonly thousandsSeparator: NumberFormat['thousands']
}


/**
 * A column of an XML record: a path relative to the record element (`../` climbs, a last step
 * `@name` is an attribute), or a lookup: the element at `from` (from the root) whose `key`
 * equals the record's `by`, read at `value` (FundsXML positions name their asset by UniqueID).
 */
export type XmlColumn = string | { readonly from: string; readonly key: string; readonly by: string; readonly value: string }

export interface XmlLayout {
  /** Local name of the root element: the format's signature. */
  readonly root: string
  /** Namespaces the root may be in; "" is no namespace. */
  readonly namespaces: readonly string[]
  /**
   * Tried in order: the first whose `each` path (from the root) finds elements, one of them
   * with a value at `when` if given, gives the file's kind and rows.
   */
  readonly records: readonly {
    readonly kind: 'nav' | 'holdings' | 'reference'
    readonly each: string
    readonly when?: string
    readonly columns: Readonly<Record<string, XmlColumn>>
  }[]
}

export interface TemplateSpec {
  /** The column holding the template version (the same on every row). */
  readonly versionColumn: string
  /** Version -> columns that must be present and filled on every row. */
  readonly versions: Readonly<Record<string, { readonly required: readonly string[] }>>
  /** Column -> the values it may hold (when filled). */
  readonly codeLists?: Readonly<Record<string, readonly string[]>>
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
  if (p.standard !== undefined && !FUND_STANDARDS.includes(p.standard as FundStandard)) fail(`"standard" must be one of ${FUND_STANDARDS.join(', ')}`)
  if (p.xml !== undefined) checkXml(p.xml, fail)
  if (p.template !== undefined) checkTemplate(p.template, fail)
  return doc as MappingProfile
}

const isStrings = (v: unknown): boolean => Array.isArray(v) && v.every((x) => typeof x === 'string')

function checkXml(xml: unknown, fail: (what: string) => never): void {
  const x = xml as Record<string, unknown>
  if (typeof x !== 'object' || x === null || typeof x.root !== 'string' || !isStrings(x.namespaces) || !Array.isArray(x.records)) {
    fail('"xml" must have root (element name), namespaces (strings) and records')
  }
  for (const r of x.records as unknown[]) {
    const rec = r as Record<string, unknown>
    if (typeof rec !== 'object' || rec === null || !['nav', 'holdings', 'reference'].includes(rec.kind as string) || typeof rec.each !== 'string' || (rec.when !== undefined && typeof rec.when !== 'string') || typeof rec.columns !== 'object' || rec.columns === null) {
      fail('each "xml.records" entry needs kind (nav, holdings, reference), each (a path) and columns')
    }
    for (const c of Object.values(rec.columns as object)) {
      const lookup = c as Record<string, unknown>
      if (typeof c !== 'string' && !(typeof c === 'object' && c !== null && ['from', 'key', 'by', 'value'].every((k) => typeof lookup[k] === 'string'))) {
        fail('an "xml.records" column is a path or a lookup {from, key, by, value}')
      }
    }
  }
}

function checkTemplate(template: unknown, fail: (what: string) => never): void {
  const t = template as Record<string, unknown>
  if (typeof t !== 'object' || t === null || typeof t.versionColumn !== 'string' || typeof t.versions !== 'object' || t.versions === null) {
    fail('"template" must have versionColumn and versions')
  }
  if (!Object.values(t.versions as object).every((v) => isStrings((v as { required?: unknown }).required))) fail('each "template.versions" entry needs required (column names)')
  if (t.codeLists !== undefined && !(typeof t.codeLists === 'object' && t.codeLists !== null && Object.values(t.codeLists).every(isStrings))) {
    fail('"template.codeLists" maps columns to their allowed values')
  }
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
