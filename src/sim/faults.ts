import type { Faker } from '@faker-js/faker'
import type { FileKind } from '../pipeline/types.js'
import { corruptIsin } from './identifiers.js'
import { renderFundsXml } from './fundsxml.js'
import { encodeText, renderCsv, type CanonicalRow, type Encoding, type RenderOptions } from './layouts.js'
import { PROVIDER_KINDS, type Expected, type FaultKind, type ProviderName } from './types.js'

/** Why a file is in the day: its place in a fund's routine, which decides the faults it can carry. */
export type FileRole = 'nav-today' | 'nav-previous' | 'nav-late' | 'holdings' | 'reference'

/** A file before it becomes bytes: rows, how to render them, and what the pipeline should do. */
export interface FileSpec {
  readonly provider: ProviderName
  readonly kind: FileKind
  readonly role: FileRole
  rows: CanonicalRow[]
  render: RenderOptions
  encoding: Encoding
  empty: 'no' | 'zero-bytes' | 'header-only'
  faults: FaultKind[]
  expected: Expected
}

export const delivered = (flags: readonly string[] = []): Expected => ({ outcome: 'delivered', flags: [...flags].sort() })
const rejected = (stage: 'ingest' | 'validate', rule: string): Expected => ({ outcome: 'rejected', stage, rules: [rule] })

/** Faults that add a file to the day rather than change one. */
export const EXTRA_FILE_FAULTS: ReadonlySet<FaultKind> = new Set(['duplicate-file', 'late-file'])

/** A row longer than the parser's 64 KiB row limit (MAX_ROW_BYTES): a free-text note run wild. */
const OVERSIZED_TEXT = `${'Commentary pasted from the factsheet into the wrong cell. '.repeat(1200)}`

const TEXT_FIELD: Readonly<Record<FileKind, string>> = { nav: 'shareClassName', holdings: 'holdingName', reference: 'fundName' }
const ISIN_FIELD: Readonly<Record<FileKind, string>> = { nav: 'isin', holdings: 'holdingIsin', reference: 'isin' }
/** Codes funds really send by mistake: withdrawn ones (HRK 2023, SLL 2024, ANG 2025) and typos. */
const BAD_CURRENCIES = ['HRK', 'SLL', 'ANG', 'EURO', 'US$', 'STG']

export interface FaultContext {
  /** For a NAV file of today: the fund's previous-day NAV file is delivered earlier the same day. */
  readonly baselineDelivered: boolean
}

/** Senders whose files are CSV text, where row-level CSV faults make sense. */
const CSV_SENDERS: ReadonlySet<ProviderName> = new Set(['northwind', 'lumen', 'atlas', 'emt', 'openfunds'])
/** Senders that state class and fund net assets next to the NAVs. */
const NET_ASSET_SENDERS: ReadonlySet<ProviderName> = new Set(['fundsxml', 'openfunds'])

/** Whether `fault` can be injected into this file (extra-file faults: whether it can be added after it). */
export function canInject(fault: FaultKind, spec: FileSpec, context: FaultContext): boolean {
  const p = spec.provider
  switch (fault) {
    case 'nav-jump':
      return spec.role === 'nav-today' && context.baselineDelivered
    case 'latin1-encoding':
      return p === 'lumen' // French exports in ISO 8859-1; the header itself has accents
    case 'duplicate-file':
      return true
    case 'late-file':
      return PROVIDER_KINDS[p].includes('nav') // the late file is a NAV file of the same sender
    case 'malformed-row':
      return CSV_SENDERS.has(p)
    case 'oversized-row':
      return CSV_SENDERS.has(p) && p !== 'openfunds' // openfunds NAV files carry no free-text column
    case 'missing-mandatory-column':
      // FundsXML: a missing element is a missing value; EMT: its template names the column first.
      return p !== 'fundsxml' && p !== 'emt'
    case 'xml-malformed':
    case 'xml-namespace':
      return p === 'fundsxml'
    case 'emt-missing-field':
    case 'code-list-value':
      return p === 'emt'
    case 'net-assets-sum':
    case 'nav-shares-off':
      return NET_ASSET_SENDERS.has(p) && spec.kind === 'nav'
    default:
      return true
  }
}

/** Changes `spec` so it carries `fault`, and sets what the real stages do with it. */
export function injectFault(fault: FaultKind, spec: FileSpec, f: Faker): void {
  const row = f.number.int({ min: 0, max: Math.max(0, spec.rows.length - 1) })
  const set = (field: string, value: string | number): void => {
    spec.rows = spec.rows.map((r, i) => (i === row ? { ...r, [field]: value } : r))
  }
  const at = spec.rows[row] ?? {}
  spec.faults.push(fault)
  switch (fault) {
    case 'malformed-row':
      spec.render = { ...spec.render, extraCellRow: row }
      spec.expected = rejected('ingest', 'csv-syntax')
      return
    case 'bad-check-digit':
      set(ISIN_FIELD[spec.kind], corruptIsin(String(at[ISIN_FIELD[spec.kind]])))
      spec.expected = rejected('validate', 'isin-check-digit')
      return
    case 'missing-mandatory-column':
      spec.render = { ...spec.render, drop: ['currency'] }
      spec.expected = rejected('validate', 'mandatory-column')
      return
    case 'unknown-currency':
      set('currency', f.helpers.arrayElement(BAD_CURRENCIES))
      spec.expected = rejected('validate', 'currency-code')
      return
    case 'nav-jump': {
      const nav = Math.round(Number(at.nav) * f.number.float({ min: 1.2, max: 1.6 }) * 10_000) / 10_000
      set('nav', nav)
      // Where the file states net assets, they move with the NAV: the jump is real, not an inconsistency.
      if (at.classNetAssets !== undefined) {
        set('classNetAssets', Math.round(nav * Number(at.sharesOutstanding) * 100) / 100)
        const total = Math.round(spec.rows.reduce((a, r) => a + Number(r.classNetAssets) * 100, 0)) / 100
        spec.rows = spec.rows.map((r) => ({ ...r, fundNetAssets: total }))
      }
      spec.expected = delivered(['nav-jump'])
      return
    }
    case 'empty-file':
      spec.empty = f.datatype.boolean() ? 'zero-bytes' : 'header-only'
      spec.expected = rejected('ingest', spec.empty === 'zero-bytes' ? 'empty-file' : 'no-rows')
      return
    case 'latin1-encoding':
      spec.encoding = 'latin1'
      return
    case 'byte-order-mark':
      spec.encoding = 'utf-8-bom'
      return
    case 'oversized-row':
      set(TEXT_FIELD[spec.kind], `${String(at[TEXT_FIELD[spec.kind]])} ${OVERSIZED_TEXT}`)
      spec.expected = rejected('ingest', 'row-too-large')
      return
    case 'xml-malformed':
      spec.render = { ...spec.render, xml: 'malformed' }
      spec.expected = rejected('ingest', 'xml-syntax')
      return
    case 'xml-namespace':
      spec.render = { ...spec.render, xml: 'wrong-namespace' }
      spec.expected = rejected('ingest', 'xml-namespace')
      return
    case 'emt-missing-field':
      set('ongoingCosts', '') // mandatory in V4.2, the version the EMT sender writes
      spec.expected = rejected('ingest', 'template-mandatory-field')
      return
    case 'code-list-value':
      set('retail', f.helpers.arrayElement(['Maybe', 'Yes', 'R']))
      spec.expected = rejected('ingest', 'code-list')
      return
    case 'net-assets-sum': {
      // The fund total is restated and no longer matches its classes: off by 2 to 50,000 units.
      const off = f.number.int({ min: 2, max: 50_000 })
      spec.rows = spec.rows.map((r) => ({ ...r, fundNetAssets: Number(r.fundNetAssets) + off }))
      spec.expected = rejected('validate', 'class-net-assets-sum')
      return
    }
    case 'nav-shares-off':
      // Shares outstanding of the day before the subscriptions: NAV x shares misses the class's net assets by 1-8%.
      set('sharesOutstanding', Math.round(Number(at.sharesOutstanding) * f.number.float({ min: 1.01, max: 1.08 })))
      spec.expected = rejected('validate', 'nav-shares-net-assets')
      return
    case 'duplicate-file':
    case 'late-file':
      throw new Error(`${fault} adds a file; it is not injected into one`)
  }
}

/** The file's bytes. */
export function renderSpec(spec: FileSpec): Buffer {
  if (spec.empty === 'zero-bytes') return Buffer.alloc(0)
  const rows = spec.empty === 'header-only' ? [] : spec.rows
  const text = spec.provider === 'fundsxml' ? renderFundsXml(spec.kind, rows, spec.render) : renderCsv(spec.provider, spec.kind, rows, spec.render)
  return encodeText(text, spec.encoding)
}
