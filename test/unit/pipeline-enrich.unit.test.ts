import { describe, expect, it } from 'vitest'
import { enrichFile } from '../../src/pipeline/enrich.js'
import { referenceFromRows } from '../../src/pipeline/reference.js'
import { resolveFile } from '../../src/pipeline/resolve.js'
import type { FileKind, PipelineRecord, ValidatedPayload } from '../../src/pipeline/types.js'

const FUND = 'LU1842936517'
const reference = referenceFromRows(
  [{ isin: FUND, fundName: 'Meridian Global Equity Fund A EUR Acc', lei: '222100K6QL2V31RXDK41', currency: 'EUR', domicile: 'LU', assetClass: 'Equity', manager: 'Meridian Fonds Gestion S.A.' }],
  [
    { isin: FUND, cusip: '', sedol: '', figi: 'BBG00QX7LM26', ticker: 'MERGEAE LX' },
    { isin: 'US0378331005', cusip: '037833100', sedol: '', figi: 'BBG000B9XRY4', ticker: 'AAPL' },
  ],
)

function file(kind: FileKind, records: PipelineRecord[]): ValidatedPayload {
  return { fileName: 'f', contentHash: 'd'.repeat(64), kind, provider: 'generic', receivedAt: '2026-11-25T07:30:00.000Z', rowCount: records.length, records, warnings: [] }
}

describe('enrich', () => {
  it('joins fund reference data by the share class ISIN, once per fund', () => {
    const e = enrichFile(file('nav', [{ row: 1, fields: { isin: FUND, currency: 'EUR' } }, { row: 2, fields: { isin: FUND, currency: 'EUR' } }]), reference)
    expect(e.funds).toEqual({ [FUND]: { fundName: 'Meridian Global Equity Fund A EUR Acc', manager: 'Meridian Fonds Gestion S.A.', domicile: 'LU', assetClass: 'Equity' } })
    expect(e.warnings).toEqual([])
  })
  it('joins holdings by the fund ISIN, not the held security', () => {
    const e = enrichFile(file('holdings', [{ row: 1, fields: { fundIsin: FUND, holdingIsin: 'US0378331005' } }]), reference)
    expect(Object.keys(e.funds)).toEqual([FUND])
  })
  it('warns once per unknown fund, without failing', () => {
    const other = 'LU1842936699'
    const e = enrichFile(file('nav', [{ row: 1, fields: { isin: other } }, { row: 2, fields: { isin: other } }]), reference)
    expect(e.funds).toEqual({})
    expect(e.warnings).toEqual([expect.objectContaining({ row: 1, column: 'isin', value: other, rule: 'reference-isin' })])
  })
  it('warns when a NAV currency differs from the reference currency', () => {
    const e = enrichFile(file('nav', [{ row: 1, fields: { isin: FUND, currency: 'USD' } }]), reference)
    expect(e.warnings).toEqual([expect.objectContaining({ row: 1, column: 'currency', value: 'USD', rule: 'reference-currency' })])
  })
})

describe('resolve', () => {
  it('resolves the share class for NAV files and counts what it cannot', () => {
    const r = resolveFile(enrichFile(file('nav', [{ row: 1, fields: { isin: FUND } }, { row: 2, fields: { isin: 'LU1842936699' } }]), reference), reference)
    expect(r.identifiers).toEqual({ [FUND]: { cusip: '', sedol: '', figi: 'BBG00QX7LM26', ticker: 'MERGEAE LX' } })
    expect(r.unresolved).toBe(1)
  })
  it('resolves the held security for holdings files', () => {
    const rows = [{ row: 1, fields: { fundIsin: FUND, holdingIsin: 'US0378331005' } }, { row: 2, fields: { fundIsin: FUND, holdingIsin: 'JP3633400001' } }]
    const r = resolveFile(enrichFile(file('holdings', rows), reference), reference)
    expect(Object.keys(r.identifiers)).toEqual(['US0378331005'])
    expect(r.identifiers.US0378331005?.figi).toBe('BBG000B9XRY4')
    expect(r.unresolved).toBe(1)
  })
})
