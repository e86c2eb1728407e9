import { describe, expect, it } from 'vitest'
import {
  applyJourney,
  journeyKey,
  NAV_LATEST_HASH,
  navCandidates,
  newerNav,
  readFileJourney,
  readLatestNav,
  type FileJourney,
  type JourneyEvent,
} from '../../src/pipeline/projections.js'
import { EVENT, type ValidatedPayload } from '../../src/pipeline/types.js'

const ev = (n: number, type: string, payload: unknown = {}): JourneyEvent => ({
  id: `019ab5c2-7d1e-7000-8000-00000000000${n}`,
  type,
  occurredAt: `2026-11-25T07:30:0${n}.000Z`,
  payload,
})

function fold(events: JourneyEvent[]): FileJourney | null {
  let j: FileJourney | null = null
  for (const e of events) j = applyJourney(j, e) ?? j
  return j
}

describe('file-journey', () => {
  const happy = [
    ev(1, EVENT.received, { fileName: 'nav.csv' }),
    ev(2, EVENT.ingested, { fileName: 'nav.csv', kind: 'nav' }),
    ev(3, EVENT.mapped, { fileName: 'nav.csv', kind: 'nav' }),
    ev(4, EVENT.validated, { fileName: 'nav.csv', kind: 'nav' }),
    ev(5, EVENT.scored, { fileName: 'nav.csv', kind: 'nav' }),
    ev(6, EVENT.enriched, { fileName: 'nav.csv', kind: 'nav' }),
    ev(7, EVENT.resolved, { fileName: 'nav.csv', kind: 'nav' }),
    ev(8, EVENT.delivered, { fileName: 'nav.csv', kind: 'nav', outputPath: 'x' }),
  ]
  it('follows a file to delivery, with event times', () => {
    const j = fold(happy)
    expect(j).toMatchObject({ fileName: 'nav.csv', kind: 'nav', status: 'delivered', lastType: EVENT.delivered, updatedAt: '2026-11-25T07:30:08.000Z' })
    expect(j?.steps.map((s) => s.type)).toEqual(happy.map((e) => e.type))
  })
  it('ignores an event applied twice', () => {
    const j = fold(happy.slice(0, 3))
    expect(applyJourney(j, happy[2] as JourneyEvent)).toBeNull()
  })
  it('reaches the same journey in any arrival order across streams', () => {
    const shuffled = [happy[7], happy[0], happy[4], happy[2], happy[1], happy[6], happy[3], happy[5]] as JourneyEvent[]
    expect(fold(shuffled)).toEqual(fold(happy))
  })
  it('keeps the reasons of a rejection', () => {
    const reasons = [{ row: 2, column: 'currency', value: 'EUX', rule: 'currency-code', message: 'no' }]
    const j = fold([ev(1, EVENT.received, { fileName: 'bad.csv' }), ev(2, EVENT.ingested, { fileName: 'bad.csv', kind: 'nav' }), ev(3, EVENT.mapped, {}), ev(4, EVENT.rejected, { fileName: 'bad.csv', stage: 'validate', reasons })])
    expect(j).toMatchObject({ status: 'rejected', reasons })
  })
  it('marks a duplicate', () => {
    expect(fold([ev(1, EVENT.received, { fileName: 'a.csv' }), ev(2, EVENT.duplicate, { fileName: 'a.csv' })])?.status).toBe('duplicate')
  })
  it('ignores types it does not track', () => {
    expect(applyJourney(null, ev(1, 'something.else'))).toBeNull()
  })
})

describe('nav-latest', () => {
  const file = (records: [string, number, string][]): ValidatedPayload => ({
    fileName: 'n.csv',
    contentHash: 'c'.repeat(64),
    kind: 'nav',
    provider: 'generic',
    receivedAt: '2026-11-25T07:30:00.000Z',
    rowCount: records.length,
    records: records.map(([isin, nav, navDate], i) => ({ row: i + 1, fields: { isin, nav, navDate, currency: 'USD' }, raw: {} })),
    warnings: [],
  })
  it('takes the latest NAV date per ISIN from a file', () => {
    const c = navCandidates(file([['US0378331005', 100, '2026-11-23'], ['US0378331005', 101, '2026-11-24'], ['US5949181045', 50, '2026-11-24']]), 'k1')
    expect(c.get('US0378331005')).toEqual({ nav: 101, currency: 'USD', navDate: '2026-11-24', correlationId: 'k1' })
    expect(c.size).toBe(2)
  })
  it('ignores holdings files', () => {
    expect(navCandidates({ ...file([]), kind: 'holdings' }, 'k').size).toBe(0)
  })
  it('orders by NAV date, then by file, so any arrival order converges', () => {
    const a = { nav: 1, currency: 'USD', navDate: '2026-11-24', correlationId: '019a-1' }
    const b = { nav: 2, currency: 'USD', navDate: '2026-11-24', correlationId: '019a-2' }
    const older = { nav: 3, currency: 'USD', navDate: '2026-11-23', correlationId: '019a-3' }
    expect(newerNav(null, a)).toBe(true)
    expect(newerNav(a, b)).toBe(true)
    expect(newerNav(b, a)).toBe(false)
    expect(newerNav(b, older)).toBe(false)
    expect(newerNav(a, a)).toBe(true) // replay rewrites the same value: a no-op
  })
})

describe('read helpers', () => {
  it('read through a minimal { get, hget } reader', async () => {
    const journey = fold([ev(1, EVENT.received, { fileName: 'x.csv' })])
    const reader = {
      get: async (name: string) => (name === journeyKey('cid') ? JSON.stringify(journey) : null),
      hget: async (name: string, field: string) =>
        name === NAV_LATEST_HASH && field === 'US0378331005' ? JSON.stringify({ nav: 1, currency: 'USD', navDate: '2026-11-24', correlationId: 'cid' }) : null,
    }
    expect(await readFileJourney(reader, 'cid')).toEqual(journey)
    expect(await readFileJourney(reader, 'other')).toBeNull()
    expect(await readLatestNav(reader, 'us0378331005')).toMatchObject({ nav: 1 })
    expect(await readLatestNav(reader, 'US5949181045')).toBeNull()
  })
})
