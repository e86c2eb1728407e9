import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { checkDayWithChain } from '../../src/sim/chain.js'
import { generateDay } from '../../src/sim/day.js'
import { describe as describeOutcome } from '../../src/sim/outcome.js'
import { writeDay } from '../../src/sim/store.js'
import { FAULT_KINDS, type Expected, type FaultKind } from '../../src/sim/types.js'

const dir = mkdtempSync(join(tmpdir(), 'sim-faults-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

// A small day where four files in ten carry a fault: every kind shows up several times.
const day = writeDay(generateDay({ eventsPerDay: 4000, date: '2026-11-20', seed: 99, faults: 0.4 }), dir)
const { actual, mismatches } = checkDayWithChain(day)

/** What each fault must lead to, by what the real stages do (duplicates aside: see below). */
const EXPECTED: Readonly<Record<FaultKind, (e: Expected) => boolean>> = {
  'malformed-row': (e) => e.outcome === 'rejected' && e.stage === 'ingest' && e.rules.join() === 'csv-syntax',
  'bad-check-digit': (e) => e.outcome === 'rejected' && e.stage === 'validate' && e.rules.join() === 'isin-check-digit',
  'missing-mandatory-column': (e) => e.outcome === 'rejected' && e.stage === 'validate' && e.rules.join() === 'mandatory-column',
  'unknown-currency': (e) => e.outcome === 'rejected' && e.stage === 'validate' && e.rules.join() === 'currency-code',
  'nav-jump': (e) => e.outcome === 'delivered' && e.flags.join() === 'nav-jump',
  'duplicate-file': (e) => e.outcome === 'duplicate',
  'late-file': (e) => e.outcome === 'delivered' && e.flags.join() === 'stale-data',
  'empty-file': (e) => e.outcome === 'rejected' && e.stage === 'ingest' && ['empty-file', 'no-rows'].includes(e.rules.join()),
  'latin1-encoding': (e) => e.outcome === 'delivered' && e.flags.length === 0,
  'byte-order-mark': (e) => e.outcome === 'delivered' && e.flags.length === 0,
  'oversized-row': (e) => e.outcome === 'rejected' && e.stage === 'ingest' && e.rules.join() === 'row-too-large',
  'xml-malformed': (e) => e.outcome === 'rejected' && e.stage === 'ingest' && e.rules.join() === 'xml-syntax',
  'xml-namespace': (e) => e.outcome === 'rejected' && e.stage === 'ingest' && e.rules.join() === 'xml-namespace',
  'emt-missing-field': (e) => e.outcome === 'rejected' && e.stage === 'ingest' && e.rules.join() === 'template-mandatory-field',
  'code-list-value': (e) => e.outcome === 'rejected' && e.stage === 'ingest' && e.rules.join() === 'code-list',
  'net-assets-sum': (e) => e.outcome === 'rejected' && e.stage === 'validate' && e.rules.join() === 'class-net-assets-sum',
  'nav-shares-off': (e) => e.outcome === 'rejected' && e.stage === 'validate' && e.rules.join() === 'nav-shares-net-assets',
}

describe('every fault kind, through the pure stage chain', () => {
  it('the day carries every fault kind', () => {
    const seen = new Set(day.manifest.files.flatMap((f) => f.faults))
    expect([...seen].sort()).toEqual([...FAULT_KINDS].sort())
  })

  it('every file ends as its manifest says (zero mismatches)', () => {
    const lines = mismatches.slice(0, 10).map((m) => `${m.file} [${m.faults.join()}]: ${describeOutcome(m.expected)} vs ${describeOutcome(m.actual)}`)
    expect(lines).toEqual([])
    expect(actual.size).toBe(day.manifest.files.length)
  })

  it.each(FAULT_KINDS)('%s leads to its named outcome', (kind) => {
    const files = day.manifest.files.filter((f) => f.faults.includes(kind))
    expect(files.length).toBeGreaterThan(0)
    for (const f of files) {
      // A fault file whose bytes equal an earlier file's (two empty files) is, rightly, a duplicate.
      const expected = f.expected.outcome === 'duplicate' && kind !== 'duplicate-file' ? null : f.expected
      if (expected !== null) expect(EXPECTED[kind](expected), `${f.name}: ${describeOutcome(expected)}`).toBe(true)
      expect(actual.get(f.name)).toEqual(f.expected)
    }
  })

  it('clean files are delivered without flags', () => {
    const clean = day.manifest.files.filter((f) => f.faults.length === 0)
    expect(clean.length).toBeGreaterThan(0)
    for (const f of clean) expect(actual.get(f.name), f.name).toEqual({ outcome: 'delivered', flags: [] })
  })
})
