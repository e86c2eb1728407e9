import { describe, expect, it } from 'vitest'
import { classSumProblems, navDateProblems, navSharesProblems, positionProblems, sriProblems } from '../../src/pipeline/fund-rules.js'
import { cfiProblem } from '../../src/pipeline/rules/cfi.js'
import { figiCheckDigit, figiProblem } from '../../src/pipeline/rules/figi.js'
import { fundTypeOf, NAV_TOLERANCE } from '../../src/pipeline/rules/nav-tolerance.js'
import { sriFromGrid } from '../../src/pipeline/rules/sri.js'
import type { FieldValue, PipelineRecord } from '../../src/pipeline/types.js'

const rec = (row: number, fields: Record<string, FieldValue>): PipelineRecord => ({ row, fields })

describe('FIGI check digit', () => {
  it('accepts published FIGIs and refuses a wrong digit or shape', () => {
    for (const figi of ['BBG000BLNNH6', 'BBG000B9XRY4', 'BBG000BPH459']) expect(figiProblem(figi)).toBeNull()
    expect(figiCheckDigit('BBG000BLNNH')).toBe('6')
    expect(figiProblem('BBG000BLNNH7')).toContain('expected 6')
    expect(figiProblem('BBGA00BLNNH6')).toContain('not shaped like a FIGI') // a vowel
    expect(figiProblem('BBG000BLNNH')).toContain('not shaped like a FIGI')
  })
})

describe('CFI first-letter category', () => {
  it('wants six letters whose first is an ISO 10962 category, C for a share class', () => {
    expect(cfiProblem('CIOGLU', 'C')).toBeNull()
    expect(cfiProblem('ESVUFR')).toBeNull()
    expect(cfiProblem('ESVUFR', 'C')).toContain('a fund share class is C')
    expect(cfiProblem('ZSVUFR')).toContain('no ISO 10962 category')
    expect(cfiProblem('CIOG')).toContain('six letters')
  })
})

describe('CSSF 24/856 tolerance by fund type', () => {
  it('maps reference asset classes to fund types and their thresholds', () => {
    expect(NAV_TOLERANCE[fundTypeOf('Money Market')]).toBe(0.002)
    expect(NAV_TOLERANCE[fundTypeOf('Fixed Income')]).toBe(0.005)
    expect(NAV_TOLERANCE[fundTypeOf('Multi-Asset')]).toBe(0.005)
    expect(NAV_TOLERANCE[fundTypeOf('Equity')]).toBe(0.01)
    expect(fundTypeOf(undefined)).toBe('other')
    expect(NAV_TOLERANCE.other).toBe(0.01)
  })
})

describe('PRIIPs SRI grid', () => {
  it('lifts the market-risk class by the credit-risk floor', () => {
    expect(sriFromGrid(4, 1)).toBe(4)
    expect(sriFromGrid(2, 3)).toBe(3)
    expect(sriFromGrid(2, 4)).toBe(5)
    expect(sriFromGrid(6, 5)).toBe(6)
    expect(sriFromGrid(1, 6)).toBe(6)
    expect(sriFromGrid(7, 6)).toBe(7)
    expect(sriFromGrid(8, 1)).toBeNull()
    expect(sriFromGrid(3, 7)).toBeNull()
  })
  it('passes an adjusted SRI and refuses an unadjusted one off the grid', () => {
    expect(sriProblems([rec(1, { sri: 3, mrm: 2, crm: 3, sriAdjusted: 'N' })])).toEqual([])
    expect(sriProblems([rec(1, { sri: 4, mrm: 2, crm: 3, sriAdjusted: 'Y' })])).toEqual([])
    expect(sriProblems([rec(1, { sri: 4, mrm: 2, crm: 3, sriAdjusted: null })]).map((i) => i.rule)).toEqual(['sri-grid'])
  })
})

describe('NAV x shares outstanding against share class net assets', () => {
  it('allows rounding of a four-decimal NAV and refuses more than 0.05%', () => {
    expect(navSharesProblems([rec(1, { nav: 104.2318, sharesOutstanding: 1_250_000, classNetAssets: 130_289_812 })])).toEqual([])
    const off = navSharesProblems([rec(2, { nav: 104.2318, sharesOutstanding: 1_250_000, classNetAssets: 131_289_750 })])
    expect(off).toMatchObject([{ row: 2, rule: 'nav-shares-net-assets', column: 'classNetAssets' }])
    expect(navSharesProblems([rec(1, { nav: 104.2318, sharesOutstanding: null, classNetAssets: 5 })])).toEqual([])
  })
})

describe('share classes against the fund total', () => {
  it('adds classes per fund (LEI) within one unit of currency', () => {
    const lei = '222100ELMSTEAD0FX448'
    const rows = (total: number) => [rec(1, { lei, classNetAssets: 100.5, fundNetAssets: total }), rec(2, { lei, classNetAssets: 200.25, fundNetAssets: total })]
    expect(classSumProblems(rows(301.75))).toEqual([])
    expect(classSumProblems(rows(299.76))).toEqual([])
    expect(classSumProblems(rows(299.7))).toMatchObject([{ rule: 'class-net-assets-sum', value: '299.7' }])
    // A class whose net assets are unknown makes no sum to compare.
    expect(classSumProblems([rec(1, { lei, classNetAssets: null, fundNetAssets: 5 })])).toEqual([])
  })
})

describe('NAV dates and position percentages', () => {
  it('wants one valuation day per document', () => {
    expect(navDateProblems([rec(1, { navDate: '2026-11-24', fundNavDate: '2026-11-24' })])).toEqual([])
    expect(navDateProblems([rec(1, { navDate: '2026-11-24', fundNavDate: '2026-11-23' })])).toMatchObject([{ rule: 'nav-dates-agree', value: '2026-11-23,2026-11-24' }])
  })
  it('wants positions to sum to 100 +/- 1 per portfolio', () => {
    const pos = (w: number) => rec(1, { fundIsin: 'LU2604417712', weight: w })
    expect(positionProblems([pos(60), pos(40.9)])).toEqual([])
    expect(positionProblems([pos(60), pos(38.9)])).toMatchObject([{ rule: 'position-percentages', value: '98.9' }])
  })
})
