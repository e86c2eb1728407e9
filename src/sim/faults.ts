import type { Faker } from '@faker-js/faker'
import type { FileKind } from '../pipeline/types.js'
import { corruptIsin } from './identifiers.js'
import { encodeText, renderCsv, type CanonicalRow, type Encoding, type RenderOptions } from './layouts.js'
import type { Expected, FaultKind, ProviderName } from './types.js'

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

/** Whether `fault` can be injected into this file (extra-file faults are decided elsewhere). */
export function canInject(fault: FaultKind, spec: FileSpec, context: FaultContext): boolean {
  switch (fault) {
    case 'nav-jump':
      return spec.role === 'nav-today' && context.baselineDelivered
    case 'latin1-encoding':
      return spec.provider === 'lumen' // French exports in ISO 8859-1; the header itself has accents
    case 'duplicate-file':
    case 'late-file':
      return false
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
    case 'nav-jump':
      set('nav', Math.round(Number(at.nav) * f.number.float({ min: 1.2, max: 1.6 }) * 10_000) / 10_000)
      spec.expected = delivered(['nav-jump'])
      return
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
    case 'duplicate-file':
    case 'late-file':
      throw new Error(`${fault} adds a file; it is not injected into one`)
  }
}

/** The file's bytes. */
export function renderSpec(spec: FileSpec): Buffer {
  if (spec.empty === 'zero-bytes') return Buffer.alloc(0)
  const rows = spec.empty === 'header-only' ? [] : spec.rows
  return encodeText(renderCsv(spec.provider, spec.kind, rows, spec.render), spec.encoding)
}
