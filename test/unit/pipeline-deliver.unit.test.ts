import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { buildOutput, deliveredPayload, joinStep, writeAtomic, type JoinState } from '../../src/pipeline/deliver.js'
import { EVENT, type ResolvedPayload, type ScoredPayload } from '../../src/pipeline/types.js'

const CID = '019ab5c2-7d1e-7000-8000-000000000001'
const resolved: ResolvedPayload = {
  fileName: 'nav.csv',
  contentHash: 'b'.repeat(64),
  kind: 'nav',
  provider: 'northwind',
  receivedAt: '2026-11-25T07:30:00.000Z',
  rowCount: 1,
  records: [{ row: 1, fields: { isin: 'US0378331005', navDate: '2026-11-24', nav: 101.5, currency: 'USD' } }],
  funds: {},
  identifiers: { US0378331005: { cusip: '037833100', sedol: '', figi: 'BBG000B9XRY4', ticker: 'AAPL' } },
  warnings: [],
  unresolved: 0,
}
const scored: ScoredPayload = {
  fileName: 'nav.csv',
  contentHash: 'b'.repeat(64),
  kind: 'nav',
  provider: 'northwind',
  receivedAt: '2026-11-25T07:30:00.000Z',
  score: 97,
  components: { completeness: 90, validity: 100, timeliness: 100, consistency: 100 },
  flags: [],
}

/** Runs arrivals through the join as the consumer does: store until ready, then clear. */
function arrive(sequence: [string, unknown][]): { ready: number; stored: JoinState | null; last: ReturnType<typeof joinStep> | undefined } {
  let stored: JoinState | null = null
  let ready = 0
  let last: ReturnType<typeof joinStep> | undefined
  for (const [type, payload] of sequence) {
    last = joinStep(stored, type, payload)
    if (last.ready) {
      ready++
      stored = null
    } else stored = last.state
  }
  return { ready, stored, last }
}

describe('the resolved + scored join', () => {
  it('completes when resolved comes first', () => {
    const first = joinStep(null, EVENT.resolved, resolved)
    expect(first).toEqual({ ready: false, state: { resolved } })
    expect(joinStep(first.ready ? null : first.state, EVENT.scored, scored)).toEqual({ ready: true, resolved, scored })
  })
  it('completes when scored comes first', () => {
    const first = joinStep(null, EVENT.scored, scored)
    expect(first).toEqual({ ready: false, state: { scored } })
    expect(joinStep(first.ready ? null : first.state, EVENT.resolved, resolved)).toEqual({ ready: true, resolved, scored })
  })
  it('gives the same output in both orders', () => {
    const a = arrive([[EVENT.resolved, resolved], [EVENT.scored, scored]])
    const b = arrive([[EVENT.scored, scored], [EVENT.resolved, resolved]])
    expect(a.ready).toBe(1)
    expect(b.ready).toBe(1)
    const out = (s: typeof a) => (s.last?.ready ? buildOutput(CID, s.last.resolved, s.last.scored) : null)
    expect(out(a)).toEqual(out(b))
  })
  it('waits while only one half has arrived, even twice', () => {
    const r = arrive([[EVENT.resolved, resolved], [EVENT.resolved, resolved]])
    expect(r.ready).toBe(0)
    expect(r.stored).toEqual({ resolved })
  })
  it('refuses event types it does not join', () => {
    expect(() => joinStep(null, EVENT.validated, {})).toThrow(/cannot join/)
  })
})

describe('the output document', () => {
  it('is named by received day, kind and correlation id', () => {
    const out = buildOutput(CID, resolved, scored)
    expect(out.relativePath).toBe(`2026-11-25/nav/${CID}.json`)
    expect(out.recordCount).toBe(1)
    expect(deliveredPayload(resolved, scored, out)).toEqual({ fileName: 'nav.csv', kind: 'nav', outputPath: out.relativePath, recordCount: 1, score: 97 })
  })
  it('is deterministic and carries records, identifiers and score', () => {
    const a = buildOutput(CID, resolved, scored)
    expect(buildOutput(CID, structuredClone(resolved), structuredClone(scored)).content).toBe(a.content)
    const doc = JSON.parse(a.content) as { quality: { score: number }; records: Record<string, unknown>[] }
    expect(doc.quality.score).toBe(97)
    expect(doc.records[0]).toMatchObject({ row: 1, isin: 'US0378331005', nav: 101.5, reference: null, identifiers: { figi: 'BBG000B9XRY4' } })
  })
  it('refuses a correlation id that would escape the folder', () => {
    expect(() => buildOutput('../../etc/passwd', resolved, scored)).toThrow(/cannot name a file/)
  })
})

describe('atomic, idempotent writing', () => {
  let dir: string | undefined
  afterEach(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })
  it('writes the file, and a retry overwrites it with the same bytes and leaves no temp files', async () => {
    dir = await mkdtemp(join(tmpdir(), 'eventspine-deliver-'))
    const out = buildOutput(CID, resolved, scored)
    const path = await writeAtomic(dir, out.relativePath, out.content)
    await writeAtomic(dir, out.relativePath, out.content)
    expect(await readFile(path, 'utf8')).toBe(out.content)
    expect(await readdir(join(dir, '2026-11-25', 'nav'))).toEqual([`${CID}.json`])
  })
})
