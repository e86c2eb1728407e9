import { describe, expect, it } from 'vitest'
import { FIELD_SPECS } from '../../src/pipeline/fields.js'
import { mapFile } from '../../src/pipeline/mapping.js'
import { GENERIC_PROFILE } from '../../src/pipeline/profiles.js'
import type { FileKind, Issue } from '../../src/pipeline/types.js'
import { FATAL_RULES, validateFile, weightProblems, WARNING_RULES } from '../../src/pipeline/validate.js'

const NOW = new Date('2026-11-25T18:00:00Z')
const APPLE = 'US0378331005'
const MSFT = 'US5949181045'
const FUND = 'LU1842936517'
const LEI = '5493001KJTIIGC8Y1R12'

/** A mapped file from canonical-named rows, through the real mapper (generic profile). */
function file(kind: FileKind, rows: Record<string, string>[]) {
  const header = [...new Set(rows.flatMap((r) => Object.keys(r)))]
  return mapFile(
    {
      fileName: 'f.csv',
      contentHash: '0'.repeat(64),
      kind,
      provider: 'generic',
      receivedAt: '2026-11-25T07:30:00.000Z',
      format: 'csv',
      encoding: 'utf-8',
      header,
      rows: rows.map((r) => Object.fromEntries(header.map((h) => [h, r[h] ?? '']))),
      rowCount: rows.length,
    },
    GENERIC_PROFILE,
  )
}

const nav = (over: Record<string, string> = {}) => ({ isin: APPLE, navDate: '2026-11-24', nav: '101.5', currency: 'USD', lei: LEI, ...over })
const holding = (holdingIsin: string, weight: string) => ({ fundIsin: FUND, holdingIsin, weight, currency: 'EUR', asOfDate: '2026-11-24' })

function reasons(kind: FileKind, rows: Record<string, string>[], tolerance?: number): Issue[] {
  const r = validateFile(file(kind, rows), { now: NOW, ...(tolerance === undefined ? {} : { weightTolerance: tolerance }) })
  return r.ok ? [] : [...r.payload.reasons]
}
function warnings(kind: FileKind, rows: Record<string, string>[]): string[] {
  const r = validateFile(file(kind, rows), { now: NOW })
  if (!r.ok) throw new Error(`rejected: ${JSON.stringify(r.payload.reasons)}`)
  return r.payload.warnings.map((w) => w.rule)
}

describe('fatal rules reject the file', () => {
  it('passes a clean NAV file', () => {
    expect(reasons('nav', [nav()])).toEqual([])
    expect(warnings('nav', [nav()])).toEqual([])
  })
  it.each([
    ['isin-check-digit', { isin: 'US0378331006' }],
    ['isin-check-digit', { isin: 'XX123' }],
    ['currency-code', { currency: 'EUX' }],
    ['nav-positive', { nav: '-12.5' }],
    ['nav-positive', { nav: '0' }],
    ['number-format', { nav: 'n/a' }],
    ['date-format', { navDate: '2026-02-30' }],
    ['date-not-future', { navDate: '2026-11-27' }],
    ['date-not-future', { navDate: '2099-01-15' }],
    ['mandatory-value', { currency: '' }],
  ])('%s for %j', (rule, over) => {
    const found = reasons('nav', [nav(), nav(over)])
    expect(found.map((r) => r.rule)).toEqual([rule])
    expect(found[0]).toMatchObject({ row: 2, rule, message: expect.any(String) })
    expect(found[0]?.column).toBe(Object.keys(over)[0])
  })
  it('reports the raw value the provider sent', () => {
    expect(reasons('nav', [nav({ currency: 'eux' })])[0]).toMatchObject({ column: 'currency', value: 'eux', rule: 'currency-code' })
  })
  it('names a missing mandatory column once, not once per row', () => {
    const rows = [nav(), nav()].map(({ currency: _drop, ...rest }) => rest)
    expect(reasons('nav', rows)).toEqual([expect.objectContaining({ column: 'currency', rule: 'mandatory-column' })])
  })
  it('lists every reason on every row when all rows fail', () => {
    const found = reasons('nav', [nav({ isin: 'US0378331006', nav: '-1' }), nav({ currency: 'ABC', navDate: '2099-01-01' })])
    expect(found.map((r) => `${r.row}:${r.rule}`).sort()).toEqual(['1:isin-check-digit', '1:nav-positive', '2:currency-code', '2:date-not-future'])
  })
  it('treats a bad LEI as fatal on reference files, where it is mandatory', () => {
    const ref = { isin: FUND, fundName: 'F', lei: '5493001KJTIIGC8Y1R13', currency: 'EUR', domicile: 'LU', assetClass: 'Equity', manager: 'M' }
    expect(reasons('reference', [ref]).map((r) => r.rule)).toEqual(['lei-check-digits'])
  })
  it('checks holding ISINs and the fund ISIN', () => {
    expect(reasons('holdings', [holding('US0378331006', '60'), holding(MSFT, '40')]).map((r) => r.rule)).toEqual(['isin-check-digit'])
  })
})

describe('holding weights', () => {
  it('accepts 100% and anything within ±0.5', () => {
    expect(reasons('holdings', [holding(APPLE, '60'), holding(MSFT, '40')])).toEqual([])
    expect(reasons('holdings', [holding(APPLE, '60.25'), holding(MSFT, '40.2')])).toEqual([])
    expect(reasons('holdings', [holding(APPLE, '59.6'), holding(MSFT, '40')])).toEqual([])
  })
  it('rejects 92% and 100.6%, naming the fund and the sum', () => {
    const low = reasons('holdings', [holding(APPLE, '52'), holding(MSFT, '40')])
    expect(low).toEqual([expect.objectContaining({ rule: 'weights-sum', value: '92', message: expect.stringContaining(FUND) })])
    expect(reasons('holdings', [holding(APPLE, '60.6'), holding(MSFT, '40')]).map((r) => r.rule)).toEqual(['weights-sum'])
  })
  it('says when the weights look like fractions of 1', () => {
    expect(reasons('holdings', [holding(APPLE, '0.6'), holding(MSFT, '0.4')])[0]?.message).toContain('fractions')
  })
  it('takes a configurable tolerance', () => {
    expect(reasons('holdings', [holding(APPLE, '59'), holding(MSFT, '40')], 1)).toEqual([])
    expect(reasons('holdings', [holding(APPLE, '59.9'), holding(MSFT, '40')], 0)).toHaveLength(1)
  })
  it('sums per fund', () => {
    const other = 'LU1842936699'
    const rows = [holding(APPLE, '100'), { ...holding(APPLE, '50'), fundIsin: other }, { ...holding(MSFT, '50'), fundIsin: other }]
    expect(weightProblems(file('holdings', rows).records)).toEqual([])
  })
  it('does not add floating-point noise to the sum', () => {
    const rows = Array.from({ length: 10 }, () => holding(APPLE, '10.1'))
    expect(weightProblems(file('holdings', rows).records)[0]?.value).toBe('101')
  })
})

describe('warnings travel with the file', () => {
  it('warns on a missing or bad LEI in a NAV file', () => {
    expect(warnings('nav', [nav({ lei: '' })])).toEqual(['lei-missing'])
    expect(warnings('nav', [nav({ lei: '5493001KJTIIGC8Y1R13' })])).toEqual(['lei-check-digits'])
    const { lei: _drop, ...noLei } = nav()
    expect(warnings('nav', [noLei])).toEqual(['lei-missing'])
  })
  it('warns on an unparseable optional number and a duplicate row', () => {
    expect(warnings('nav', [nav({ totalNetAssets: 'lots' })])).toEqual(['number-format'])
    expect(warnings('nav', [nav(), nav()])).toEqual(['duplicate-row'])
  })
  it('warns on a domicile that is not a country code', () => {
    const ref = { isin: FUND, fundName: 'F', lei: LEI, currency: 'EUR', domicile: 'Luxembourg', assetClass: 'Equity', manager: 'M' }
    expect(warnings('reference', [ref])).toEqual(['country-code'])
  })
})

describe('rule catalogue', () => {
  it('every mandatory field has a fatal rule and warnings are documented', () => {
    expect(FATAL_RULES).toContain('mandatory-column')
    expect(WARNING_RULES).toContain('lei-missing')
    for (const specs of Object.values(FIELD_SPECS)) expect(specs.some((s) => s.mandatory)).toBe(true)
  })
})
