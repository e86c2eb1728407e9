import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'csv-parse/sync'
import { EventspineError } from '../errors.js'
import type { FundReference, Identifiers } from './types.js'

/** Reference tables the enrich and resolve stages join against, keyed by ISIN. */
export interface ReferenceData {
  readonly funds: ReadonlyMap<string, FundReference & { readonly lei: string; readonly currency: string }>
  readonly identifiers: ReadonlyMap<string, Identifiers>
}

function readCsv(path: string, required: readonly string[]): Record<string, string>[] {
  const hint = `Reference tables are CSV with a header row: ${required.join(', ')}. See fixtures/reference/.`
  let rows: Record<string, string>[]
  try {
    rows = parse(readFileSync(path, 'utf8'), { columns: true, skip_empty_lines: true, trim: true, bom: true }) as Record<string, string>[]
  } catch (error) {
    throw new EventspineError('E_REFERENCE_DATA', `cannot read reference table ${path}`, { hint, details: { file: path }, cause: error })
  }
  const first = rows[0]
  const missing = first === undefined ? [] : required.filter((c) => !(c in first))
  if (missing.length > 0) throw new EventspineError('E_REFERENCE_DATA', `${path} lacks column(s) ${missing.join(', ')}`, { hint, details: { file: path } })
  return rows
}

/** Parses the two tables from CSV text already read (tests pass strings). */
export function referenceFromRows(funds: readonly Record<string, string>[], identifiers: readonly Record<string, string>[]): ReferenceData {
  return {
    funds: new Map(
      funds.map((r) => [
        (r.isin ?? '').toUpperCase(),
        {
          fundName: r.fundName ?? '',
          manager: r.manager ?? '',
          domicile: r.domicile ?? '',
          assetClass: r.assetClass ?? '',
          lei: r.lei ?? '',
          currency: r.currency ?? '',
        },
      ]),
    ),
    identifiers: new Map(
      identifiers.map((r) => [(r.isin ?? '').toUpperCase(), { cusip: r.cusip ?? '', sedol: r.sedol ?? '', figi: r.figi ?? '', ticker: r.ticker ?? '' }]),
    ),
  }
}

/** Loads `funds.csv` and `identifiers.csv` from `dir` (on the first file enrich or resolve handles). Throws `E_REFERENCE_DATA`. */
export function loadReferenceData(dir: string): ReferenceData {
  return referenceFromRows(
    readCsv(join(dir, 'funds.csv'), ['isin', 'fundName', 'lei', 'currency', 'domicile', 'assetClass', 'manager']),
    readCsv(join(dir, 'identifiers.csv'), ['isin', 'cusip', 'sedol', 'figi', 'ticker']),
  )
}
