import { FIELD_SPECS, type FieldSpec } from './fields.js'
import { isActiveCurrency } from './rules/currency.js'
import { isFutureDay, latestDayOnEarth } from './rules/dates.js'
import { fundRuleProblems, positionProblems } from './fund-rules.js'
import { cfiProblem } from './rules/cfi.js'
import { figiProblem } from './rules/figi.js'
import { isinProblem } from './rules/isin.js'
import { leiProblem } from './rules/lei.js'
import type { CanonicalRecord, Issue, MappedPayload, PipelineRecord, RejectedPayload, ValidatedPayload } from './types.js'

/**
 * Rules that reject the whole file (any one, on any row). A fund file is all or nothing: a NAV
 * file with one bad ISIN is sent again corrected by the provider, not half-loaded.
 * - `mandatory-column`: a mandatory canonical field has no column.
 * - `mandatory-value`: a mandatory field is empty on a row.
 * - `isin-check-digit`: an ISIN is malformed or its ISO 6166 check digit is wrong.
 * - `lei-check-digits` on reference files, where the LEI is mandatory (ISO 17442).
 * - `currency-code`: not an active ISO 4217 code.
 * - `nav-positive`: NAV is zero or negative.
 * - `date-format` / `number-format` on mandatory fields (unreadable NAV, NAV date, weight...).
 * - `date-not-future`: a NAV or as-of date that no time zone has reached yet (injected clock).
 * - `weights-sum`: a fund's holding weights are off 100% by more than the tolerance
 *   (FundsXML portfolios: `position-percentages`, 100 +/- 1).
 * - `cfi-category` / `figi-check-digit`: a CFI code that is no ISO 10962 category (share
 *   classes must be C), a FIGI whose check digit is wrong.
 * - `nav-dates-agree`, `nav-shares-net-assets`, `class-net-assets-sum`, `sri-grid`: the fund
 *   rules of `fund-rules.ts`.
 * Because each is fatal per row, a file whose rows all fail is rejected, with every reason.
 */
export const FATAL_RULES = [
  'mandatory-column',
  'mandatory-value',
  'isin-check-digit',
  'lei-check-digits',
  'currency-code',
  'nav-positive',
  'date-format',
  'number-format',
  'date-not-future',
  'weights-sum',
  'position-percentages',
  'cfi-category',
  'figi-check-digit',
  'nav-dates-agree',
  'nav-shares-net-assets',
  'class-net-assets-sum',
  'sri-grid',
] as const

/**
 * Fields the EMT and EPT do not carry, which the reference kind otherwise requires: from those
 * templates they are optional (the value is null), not a reason to refuse the file.
 */
const NOT_IN_TEMPLATES: ReadonlySet<string> = new Set(['domicile', 'assetClass'])

/**
 * Rules that only warn; warnings travel with the file and lower its quality score:
 * `lei-missing` and `lei-check-digits` on NAV files (the LEI is optional there),
 * `date-format`/`number-format` on optional fields (the value becomes null), `country-code`
 * (domicile not two letters), `duplicate-row` (the same key twice in one file).
 */
export const WARNING_RULES = ['lei-missing', 'lei-check-digits', 'date-format', 'number-format', 'country-code', 'duplicate-row'] as const

export interface ValidateOptions {
  readonly now: Date
  /** Allowed distance of a fund's holding weights from 100, in percentage points. Default 0.5. */
  readonly weightTolerance?: number
}

export type ValidateResult = { readonly ok: true; readonly payload: ValidatedPayload } | { readonly ok: false; readonly payload: RejectedPayload }

interface Found {
  readonly fatal: Issue[]
  readonly warnings: Issue[]
}

function issue(record: CanonicalRecord, column: string, rule: string, message: string): Issue {
  return { row: record.row, column, value: record.raw[column] ?? '', rule, message }
}

function checkField(record: CanonicalRecord, spec: FieldSpec, kind: string, now: Date, found: Found): void {
  const raw = (record.raw[spec.name] ?? '').trim()
  const value = record.fields[spec.name] ?? null
  const sink = spec.mandatory ? found.fatal : found.warnings
  if (raw === '') {
    if (spec.mandatory) found.fatal.push(issue(record, spec.name, 'mandatory-value', `${spec.name} is empty`))
    else if (spec.type === 'lei' && kind === 'nav' && spec.name in record.raw) {
      found.warnings.push(issue(record, spec.name, 'lei-missing', 'no LEI for the fund: it cannot be matched to its legal entity'))
    }
    return
  }
  const text = typeof value === 'string' ? value : ''
  switch (spec.type) {
    case 'isin': {
      const problem = isinProblem(text)
      if (problem !== null) sink.push(issue(record, spec.name, 'isin-check-digit', problem))
      return
    }
    case 'lei': {
      const problem = leiProblem(text)
      if (problem !== null) sink.push(issue(record, spec.name, 'lei-check-digits', problem))
      return
    }
    case 'cfi': {
      const problem = cfiProblem(text, kind === 'holdings' ? undefined : 'C')
      if (problem !== null) found.fatal.push(issue(record, spec.name, 'cfi-category', problem))
      return
    }
    case 'figi': {
      const problem = figiProblem(text)
      if (problem !== null) found.fatal.push(issue(record, spec.name, 'figi-check-digit', problem))
      return
    }
    case 'currency':
      if (!isActiveCurrency(text)) sink.push(issue(record, spec.name, 'currency-code', `"${raw}" is not an active ISO 4217 currency code`))
      return
    case 'code':
      if (!/^[A-Z]{2}$/.test(text)) found.warnings.push(issue(record, spec.name, 'country-code', `"${raw}" is not a two-letter country code`))
      return
    case 'date':
      if (value === null) sink.push(issue(record, spec.name, 'date-format', `"${raw}" is not a date in the provider's format`))
      else if (isFutureDay(text, now)) found.fatal.push(issue(record, spec.name, 'date-not-future', `${text} is in the future (no time zone has reached it; the latest day is ${latestDayOnEarth(now)})`))
      return
    case 'number':
      if (value === null) sink.push(issue(record, spec.name, 'number-format', `"${raw}" is not a number in the provider's format`))
      else if (spec.name === 'nav' && typeof value === 'number' && value <= 0) {
        found.fatal.push(issue(record, spec.name, 'nav-positive', `NAV ${value} is not greater than zero`))
      }
      return
    case 'text':
      return
  }
}

/** Holdings: per fund, weights must sum to 100 within the tolerance (only when all parsed). */
export function weightProblems(records: readonly PipelineRecord[], tolerance = 0.5): Issue[] {
  const sums = new Map<string, { sum: number; complete: boolean }>()
  for (const r of records) {
    const fund = r.fields.fundIsin
    if (typeof fund !== 'string') continue
    const entry = sums.get(fund) ?? { sum: 0, complete: true }
    const w = r.fields.weight
    if (typeof w === 'number') entry.sum += w
    else entry.complete = false
    sums.set(fund, entry)
  }
  const out: Issue[] = []
  for (const [fund, { sum, complete }] of sums) {
    const rounded = Math.round(sum * 1e6) / 1e6
    if (complete && Math.abs(rounded - 100) > tolerance) {
      // Some providers send fractions (0.0845 for 8.45%); say so rather than leave people puzzled.
      const hint = Math.abs(rounded - 1) <= tolerance / 100 ? ' (the weights look like fractions of 1, not percentages)' : ''
      out.push({ column: 'weight', value: String(rounded), rule: 'weights-sum', message: `holdings of fund ${fund} sum to ${rounded}%, not 100% ± ${tolerance}${hint}` })
    }
  }
  return out
}

function duplicateRows(kind: string, records: readonly CanonicalRecord[]): Issue[] {
  const keys = kind === 'nav' ? ['isin', 'navDate'] : kind === 'holdings' ? ['fundIsin', 'holdingIsin'] : ['isin']
  const seen = new Map<string, number>()
  const out: Issue[] = []
  for (const r of records) {
    const key = keys.map((k) => String(r.fields[k] ?? '')).join('|')
    const first = seen.get(key)
    if (first === undefined) seen.set(key, r.row)
    else out.push({ row: r.row, column: keys.join('+'), value: key, rule: 'duplicate-row', message: `same ${keys.join(' and ')} as row ${first}` })
  }
  return out
}

/** Validate as a pure function: every rule over every row; any fatal issue rejects the file. */
export function validateFile(mapped: MappedPayload, options: ValidateOptions): ValidateResult {
  const relaxed = mapped.standard === 'emt' || mapped.standard === 'ept'
  const specs = FIELD_SPECS[mapped.kind].map((s) => (relaxed && NOT_IN_TEMPLATES.has(s.name) ? { ...s, mandatory: false } : s))
  const present = new Set(mapped.mappedFields)
  const found: Found = { fatal: [], warnings: [] }
  const missing = specs.filter((s) => s.mandatory && !present.has(s.name))
  for (const spec of missing) {
    found.fatal.push({ column: spec.name, rule: 'mandatory-column', message: `mandatory column for ${spec.name} is missing from the header` })
  }
  if (mapped.kind === 'nav' && !present.has('lei')) {
    found.warnings.push({ column: 'lei', rule: 'lei-missing', message: 'the file has no LEI column' })
  }
  const checked = specs.filter((s) => present.has(s.name))
  for (const record of mapped.records) {
    for (const spec of checked) checkField(record, spec, mapped.kind, options.now, found)
  }
  if (mapped.kind === 'holdings') {
    found.fatal.push(...(mapped.standard === 'fundsxml4' ? positionProblems(mapped.records) : weightProblems(mapped.records, options.weightTolerance ?? 0.5)))
  }
  found.fatal.push(...fundRuleProblems(mapped.kind, mapped.records, mapped.standard))
  found.warnings.push(...duplicateRows(mapped.kind, mapped.records))

  if (found.fatal.length > 0) {
    return {
      ok: false,
      payload: { fileName: mapped.fileName, contentHash: mapped.contentHash, stage: 'validate', kind: mapped.kind, reasons: found.fatal },
    }
  }
  return {
    ok: true,
    payload: {
      fileName: mapped.fileName,
      contentHash: mapped.contentHash,
      kind: mapped.kind,
      provider: mapped.provider,
      receivedAt: mapped.receivedAt,
      rowCount: mapped.rowCount,
      records: mapped.records.map((r) => ({ row: r.row, fields: r.fields })),
      warnings: found.warnings,
    },
  }
}
