import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadContracts } from '../../src/events/contracts.js'
import { newChainMemory, runChain, type ChainOutcome } from '../../src/pipeline/chain.js'
import { defaultProfilesDir, defaultReferenceDir, packageRoot } from '../../src/pipeline/paths.js'
import { loadProfiles } from '../../src/pipeline/profiles.js'
import { loadReferenceData } from '../../src/pipeline/reference.js'
import { isValidIsin } from '../../src/pipeline/rules/isin.js'
import { isValidLei } from '../../src/pipeline/rules/lei.js'
import { expected, fixturesDir } from '../support/fixtures.js'

const root = fixturesDir
const profiles = loadProfiles(defaultProfilesDir())
const reference = loadReferenceData(defaultReferenceDir())
const contracts = loadContracts(join(packageRoot(), 'contracts'))

/** Every fixture through the pure stage functions, in the order expected.json lists them. */
function runAll(): Map<string, ChainOutcome> {
  const memory = newChainMemory()
  const out = new Map<string, ChainOutcome>()
  expected.files.forEach((f, i) => {
    out.set(
      f.path,
      runChain(f.path.split('/')[1] as string, readFileSync(join(root, f.path)), {
        profiles,
        reference,
        now: new Date(expected.clock),
        receivedAt: new Date(expected.receivedAt),
        correlationId: `019ab5c2-7d1e-7000-8000-${String(i).padStart(12, '0')}`,
        memory,
      }),
    )
  })
  return out
}

describe('fixtures/expected.json', () => {
  const results = runAll()

  it('lists every fixture file', () => {
    const onDisk = ['inbox', 'faulty'].flatMap((d) => readdirSync(join(root, d)).filter((n) => !n.startsWith('.')).map((n) => `${d}/${n}`)).sort()
    expect(expected.files.map((f) => f.path).sort()).toEqual(onDisk)
  })

  it.each(expected.files.map((f) => [f.path, f] as const))('%s', (path, want) => {
    const got = results.get(path)
    expect(got?.outcome).toBe(want.outcome)
    if (got?.outcome === 'delivered') {
      expect({
        kind: got.validated.kind,
        provider: got.validated.provider,
        records: got.validated.rowCount,
        unresolved: got.resolved.unresolved,
        warnings: [...new Set(got.resolved.warnings.map((w) => w.rule))],
        flags: got.scored.flags.map((f) => f.rule),
      }).toEqual({ kind: want.kind, provider: want.provider, records: want.records, unresolved: want.unresolved, warnings: want.warnings, flags: want.flags })
    } else if (got?.outcome === 'rejected') {
      expect({ stage: got.stage, rules: [...new Set(got.reasons.map((r) => r.rule))], reasons: got.reasons.length }).toEqual({ stage: want.stage, rules: want.rules, reasons: want.reasons })
      for (const reason of got.reasons) expect(reason.message.length).toBeGreaterThan(0)
    } else if (got?.outcome === 'duplicate') {
      const first = expected.files.findIndex((f) => f.path === want.duplicateOf)
      expect(got.firstCorrelationId).toBe(`019ab5c2-7d1e-7000-8000-${String(first).padStart(12, '0')}`)
    }
  })

  it('covers each kind for each provider, and every named fault', () => {
    const delivered = expected.files.filter((f) => f.outcome === 'delivered' && f.path.startsWith('inbox/'))
    for (const provider of ['northwind', 'lumen', 'atlas']) {
      expect(delivered.filter((f) => f.provider === provider).map((f) => f.kind).sort()).toEqual(expect.arrayContaining(['holdings', 'nav', 'reference']))
    }
    const rules = new Set(expected.files.flatMap((f) => f.rules ?? []))
    for (const rule of ['isin-check-digit', 'currency-code', 'nav-positive', 'weights-sum', 'date-not-future', 'mandatory-column', 'empty-file']) expect(rules).toContain(rule)
  })

  it('uses valid ISINs and LEIs in the good files, all known to the reference tables', () => {
    for (const [path, got] of results) {
      if (!path.startsWith('inbox/') || got.outcome !== 'delivered') continue
      for (const r of got.validated.records) {
        for (const field of ['isin', 'fundIsin', 'holdingIsin']) {
          const v = r.fields[field]
          if (typeof v === 'string') expect(isValidIsin(v), `${path} row ${r.row} ${field}`).toBe(true)
        }
        if (typeof r.fields.lei === 'string') expect(isValidLei(r.fields.lei), `${path} row ${r.row}`).toBe(true)
        const fund = got.validated.kind === 'holdings' ? r.fields.fundIsin : r.fields.isin
        expect(reference.funds.has(String(fund)), `${path} fund ${String(fund)}`).toBe(true)
      }
    }
    for (const [isin, fund] of reference.funds) {
      expect(isValidIsin(isin), isin).toBe(true)
      expect(isValidLei(fund.lei), fund.lei).toBe(true)
    }
    for (const isin of reference.identifiers.keys()) expect(isValidIsin(isin), isin).toBe(true)
  })

  it('produces payloads that satisfy their v1 contracts', () => {
    for (const got of results.values()) {
      if (got.outcome !== 'delivered') continue
      contracts.validate('pipeline.file.validated', 1, got.validated, 'test')
      contracts.validate('pipeline.file.resolved', 1, got.resolved, 'test')
      contracts.validate('pipeline.file.scored', 1, got.scored, 'test')
    }
  })
})
