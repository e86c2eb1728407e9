import { describe, expect, it } from 'vitest'
import { navBaseline, scoreFile, timelinessScore, type LastNav } from '../../src/pipeline/score.js'
import type { CanonicalRecord, Issue, ValidatedPayload } from '../../src/pipeline/types.js'

const APPLE = 'US0378331005'
const MSFT = 'US5949181045'
const GOOG = 'US02079K3059'
const TSLA = 'US88160R1014'

function navRecord(row: number, isin: string, nav: number, navDate = '2026-11-24', extra: Record<string, string | number | null> = {}): CanonicalRecord {
  return {
    row,
    fields: { isin, shareClassName: 'A', navDate, nav, currency: 'USD', lei: '5493001KJTIIGC8Y1R12', totalNetAssets: 1e9, sharesOutstanding: 1e7, ...extra },
    raw: {},
  }
}

function navFile(records: CanonicalRecord[], warnings: Issue[] = [], receivedAt = '2026-11-25T07:30:00.000Z'): ValidatedPayload {
  return { fileName: 'n.csv', contentHash: 'a'.repeat(64), kind: 'nav', provider: 'northwind', receivedAt, rowCount: records.length, records, warnings }
}

describe('score components', () => {
  it('gives a complete, clean, timely file 100', () => {
    const r = scoreFile(navFile([navRecord(1, APPLE, 100)]), new Map())
    expect(r.payload.score).toBe(100)
    expect(r.payload.components).toEqual({ completeness: 100, validity: 100, timeliness: 100, consistency: 100 })
    expect(r.payload.flags).toEqual([])
  })
  it('counts empty optional fields against completeness', () => {
    const r = scoreFile(navFile([navRecord(1, APPLE, 100, '2026-11-24', { lei: null, totalNetAssets: null })]), new Map())
    expect(r.payload.components.completeness).toBe(50) // 2 of 4 optional fields
    expect(r.payload.score).toBe(85)
  })
  it('counts rows with warnings against validity', () => {
    const r = scoreFile(navFile([navRecord(1, APPLE, 100), navRecord(2, MSFT, 100)], [{ row: 2, rule: 'lei-missing', message: '' }]), new Map())
    expect(r.payload.components.validity).toBe(50)
  })
  it('gives full timeliness for same or previous business day, less after', () => {
    expect(timelinessScore('2026-11-25', '2026-11-25')).toBe(100)
    expect(timelinessScore('2026-11-24', '2026-11-25')).toBe(100)
    expect(timelinessScore('2026-11-20', '2026-11-23')).toBe(100) // Friday NAV on Monday
    expect(timelinessScore('2026-11-19', '2026-11-23')).toBe(75)
    expect(timelinessScore('2026-10-01', '2026-11-23')).toBe(0)
    const late = scoreFile(navFile([navRecord(1, APPLE, 100, '2026-11-20')]), new Map())
    expect(late.payload.components.timeliness).toBe(50)
    expect(late.payload.flags.map((f) => f.rule)).toEqual(['stale-data'])
  })
})

describe('NAV consistency against the last known NAV', () => {
  const last: LastNav = { nav: 100, navDate: '2026-11-23' }
  // CSSF 24/856 replaces the one 10% jump threshold: the tolerance is the fund type's, from the reference data.
  const types = new Map([[APPLE, 'Equity'], [MSFT, 'Fixed Income'], [GOOG, 'Money Market']])
  const assetClassOf = (isin: string): string | undefined => types.get(isin)
  it('flags a move beyond the fund type tolerance and not one within it (equity 1%, bond 0.5%, money-market 0.2%)', () => {
    const within = scoreFile(navFile([navRecord(1, APPLE, 100.99), navRecord(2, MSFT, 100.49), navRecord(3, GOOG, 100.19)]), new Map([[APPLE, last], [MSFT, last], [GOOG, last]]), { assetClassOf })
    expect(within.payload.flags).toEqual([])
    const beyond = scoreFile(navFile([navRecord(1, APPLE, 101.01), navRecord(2, MSFT, 100.51), navRecord(3, GOOG, 100.21), navRecord(4, TSLA, 100.9)]), new Map([[APPLE, last], [MSFT, last], [GOOG, last], [TSLA, last]]), { assetClassOf })
    expect(beyond.payload.flags.map((f) => [f.rule, f.isin])).toEqual([['nav-jump', GOOG], ['nav-jump', APPLE], ['nav-jump', MSFT]])
    expect(beyond.payload.flags.find((f) => f.isin === GOOG)?.message).toContain('0.20% CSSF 24/856 tolerance of a money-market fund')
    expect(beyond.payload.components.consistency).toBe(25)
  })
  it('flags falls as well as rises; a fund missing from the reference data is "other" (1%)', () => {
    expect(scoreFile(navFile([navRecord(1, APPLE, 98.9)]), new Map([[APPLE, last]]), { assetClassOf }).payload.flags).toHaveLength(1)
    expect(scoreFile(navFile([navRecord(1, APPLE, 101.5)]), new Map([[APPLE, last]])).payload.flags).toHaveLength(1)
    expect(scoreFile(navFile([navRecord(1, APPLE, 100.5)]), new Map([[APPLE, last]])).payload.flags).toHaveLength(0)
  })
  it('updates the last NAV only when the NAV date moves forward, keeping the previous one', () => {
    const r = scoreFile(navFile([navRecord(1, APPLE, 105)]), new Map([[APPLE, last]]))
    expect(r.updates.get(APPLE)).toEqual({ nav: 105, navDate: '2026-11-24', previous: { nav: 100, navDate: '2026-11-23' } })
    const older = scoreFile(navFile([navRecord(1, APPLE, 90, '2026-11-20')]), new Map([[APPLE, last]]))
    expect(older.updates.size).toBe(0)
  })
  it('is idempotent: a replayed file is compared with what it was compared with the first time', () => {
    const file = navFile([navRecord(1, APPLE, 120)])
    const first = scoreFile(file, new Map([[APPLE, last]]))
    const stored = new Map(first.updates)
    const replay = scoreFile(file, stored)
    expect(replay.payload).toEqual(first.payload)
    expect(replay.updates.size).toBe(0)
  })
  it('chooses a baseline strictly older than the NAV date', () => {
    const stored: LastNav = { nav: 120, navDate: '2026-11-24', previous: { nav: 100, navDate: '2026-11-23' } }
    expect(navBaseline(stored, '2026-11-25')).toEqual({ nav: 120, navDate: '2026-11-24' })
    expect(navBaseline(stored, '2026-11-24')).toEqual({ nav: 100, navDate: '2026-11-23' })
    expect(navBaseline(stored, '2026-11-23')).toBeNull()
    expect(navBaseline(null, '2026-11-23')).toBeNull()
  })
  it('compares several days of one ISIN in one file in date order', () => {
    const r = scoreFile(navFile([navRecord(2, APPLE, 130, '2026-11-24'), navRecord(1, APPLE, 100, '2026-11-23')]), new Map())
    expect(r.payload.flags.filter((f) => f.rule === 'nav-jump').map((f) => f.row)).toEqual([2])
    expect(r.updates.get(APPLE)).toMatchObject({ nav: 130, navDate: '2026-11-24' })
  })
})

describe('holdings and reference files', () => {
  it('scores holdings consistency from the distance of weights to 100', () => {
    const rec = (w: number): CanonicalRecord => ({ row: 1, fields: { fundIsin: 'LU1842936517', holdingIsin: APPLE, holdingName: 'Apple', weight: w, marketValue: 1, currency: 'EUR', asOfDate: '2026-11-24' }, raw: {} })
    const file: ValidatedPayload = { ...navFile([]), kind: 'holdings', records: [rec(60), rec(39.75)], rowCount: 2 }
    const r = scoreFile(file, new Map())
    expect(r.payload.components.consistency).toBe(90)
    expect(r.updates.size).toBe(0)
  })
})
