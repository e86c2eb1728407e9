import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'csv-parse/sync'
import { afterEach, describe, expect, it } from 'vitest'
import { isValidIsin, isValidLei } from '../../src/pipeline/index.js'
import { generateDay } from '../../src/sim/day.js'
import { writeDay } from '../../src/sim/store.js'
import { summariseDay } from '../../src/sim/summary.js'

const DATE = '2026-11-20'
const dirs: string[] = []
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'sim-generate-'))
  dirs.push(dir)
  return dir
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** Every file of a folder tree, path -> bytes. */
function snapshot(dir: string, prefix = ''): Map<string, Buffer> {
  const out = new Map<string, Buffer>()
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = join(prefix, entry.name)
    if (entry.isDirectory()) for (const [k, v] of snapshot(dir, rel)) out.set(k, v)
    else out.set(rel, readFileSync(join(dir, rel)))
  }
  return out
}

describe('generate: determinism', () => {
  it('the same seed and options write byte-identical days', () => {
    const options = { eventsPerDay: 3000, date: DATE, seed: 11, faults: 0.2 }
    const a = snapshot(writeDay(generateDay(options), tempDir()).dir)
    const b = snapshot(writeDay(generateDay(options), tempDir()).dir)
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort())
    for (const [name, bytes] of a) expect(bytes.equals(b.get(name) as Buffer), name).toBe(true)
    expect(a.has('manifest.json')).toBe(true)
  })

  it('a different seed gives a different day', () => {
    const a = generateDay({ eventsPerDay: 1000, date: DATE, seed: 1, faults: 0 })
    const b = generateDay({ eventsPerDay: 1000, date: DATE, seed: 2, faults: 0 })
    expect(JSON.stringify(a.manifest.files)).not.toBe(JSON.stringify(b.manifest.files))
    expect(a.reference.funds).not.toBe(b.reference.funds)
  })
})

describe('generate: a realistic day', () => {
  const day = generateDay({ eventsPerDay: 8000, date: DATE, seed: 5, faults: 0 })

  it('is sized to the events asked for (a delivered file emits 8)', () => {
    expect(day.manifest.expectedEvents).toBeGreaterThanOrEqual(8000)
    expect(day.manifest.expectedEvents).toBeLessThan(8000 + 8 * 6)
    expect(day.manifest.expectedEvents).toBe(day.manifest.files.reduce((a, f) => a + f.events, 0))
    expect(day.manifest.files.every((f) => f.expected.outcome === 'delivered' && f.events === 8)).toBe(true)
  })

  it('lists files in arrival order, most NAV files after the 17:00 cut-off', () => {
    const arrivals = day.manifest.files.map((f) => f.arrivalMs)
    expect(arrivals).toEqual([...arrivals].sort((x, y) => x - y))
    expect(arrivals.every((a) => a >= 0 && a < 86_400_000)).toBe(true)
    expect(summariseDay(day.manifest).navAfterCutOff).toBeGreaterThan(0.5)
  })

  // The default mix is all six senders since the fund standards (issue 25); `providers` picks some.
  it('uses all six providers and all three kinds', () => {
    expect(new Set(day.manifest.files.map((f) => f.provider))).toEqual(new Set(['northwind', 'lumen', 'atlas', 'fundsxml', 'emt', 'openfunds']))
    expect(new Set(day.manifest.files.map((f) => f.kind))).toEqual(new Set(['nav', 'holdings', 'reference']))
    expect(day.manifest.providers).toEqual(['northwind', 'lumen', 'atlas', 'fundsxml', 'emt', 'openfunds'])
  })

  it('draws funds only from the providers asked for, each sending the kinds its format carries', () => {
        const some = generateDay({ eventsPerDay: 1500, date: DATE, seed: 3, faults: 0, providers: ['fundsxml', 'emt'] })
    expect(new Set(some.manifest.files.map((f) => f.provider))).toEqual(new Set(['fundsxml', 'emt']))
    expect(new Set(some.manifest.files.filter((f) => f.provider === 'emt').map((f) => f.kind))).toEqual(new Set(['reference']))
    expect(new Set(some.manifest.files.filter((f) => f.provider === 'fundsxml').map((f) => f.kind))).toEqual(new Set(['nav', 'holdings']))
    expect(some.manifest.files.filter((f) => f.provider === 'fundsxml').every((f) => f.name.endsWith('.xml'))).toBe(true)
    expect(() => generateDay({ eventsPerDay: 100, date: DATE, seed: 3, faults: 0, providers: ['emt'], kinds: ['nav'] })).toThrow(/sends nav/)
  })

  it('writes reference tables whose ISINs and LEIs are valid', () => {
    const funds = parse(day.reference.funds, { columns: true }) as Record<string, string>[]
    const ids = parse(day.reference.identifiers, { columns: true }) as Record<string, string>[]
    expect(funds.length).toBeGreaterThan(100)
    expect(funds.every((r) => isValidIsin(r.isin ?? '') && isValidLei(r.lei ?? ''))).toBe(true)
    expect(ids.every((r) => isValidIsin(r.isin ?? ''))).toBe(true)
    expect(new Set(funds.map((r) => r.isin)).size).toBe(funds.length)
  })

  it('gives holdings files weights that sum to 100% per fund', () => {
    const holdings = day.manifest.files.filter((f) => f.kind === 'holdings' && f.provider === 'northwind')
    expect(holdings.length).toBeGreaterThan(0)
    for (const f of holdings.slice(0, 20)) {
      const rows = parse(day.files.get(f.name) as Buffer, { columns: true }) as Record<string, string>[]
      const sum = rows.reduce((a, r) => a + Number(r['Weight %']), 0)
      expect(Math.abs(sum - 100)).toBeLessThan(0.05)
    }
  })

  it('honours --kinds', () => {
    const navOnly = generateDay({ eventsPerDay: 500, date: DATE, seed: 3, faults: 0, kinds: ['nav'] })
    expect(new Set(navOnly.manifest.files.map((f) => f.kind))).toEqual(new Set(['nav']))
  })
})
