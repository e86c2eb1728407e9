import { Faker, base, en } from '@faker-js/faker'
import { contentHash } from '../pipeline/intake.js'
import type { FileKind } from '../pipeline/types.js'
import { businessDaysBefore, HOUR_MS, LAST_MS_OF_DAY } from './calendar.js'
import { canInject, delivered, EXTRA_FILE_FAULTS, injectFault, renderSpec, type FileRole, type FileSpec } from './faults.js'
import type { CanonicalRow } from './layouts.js'
import { fundTypeOf, NAV_TOLERANCE } from '../pipeline/rules/nav-tolerance.js'
import { FAULT_KINDS, eventsFor, PROVIDER_KINDS, PROVIDERS, type FaultKind, type Manifest, type ManifestFile, type ProviderName } from './types.js'
import { Universe, type Fund } from './universe.js'

export interface GenerateOptions {
  /** Events processing the day should emit in all (about). */
  readonly eventsPerDay: number
  /** The business day, `YYYY-MM-DD`. */
  readonly date: string
  readonly seed: number
  /** Share of files (0-1) that carry a fault. */
  readonly faults: number
  readonly kinds?: readonly FileKind[]
  /** The senders funds are drawn from (default: all six); each sends the kinds its format carries. */
  readonly providers?: readonly ProviderName[]
}

export interface GeneratedDay {
  readonly manifest: Manifest
  /** File name -> bytes, for every manifest file. */
  readonly files: ReadonlyMap<string, Buffer>
  readonly reference: { readonly funds: string; readonly identifiers: string }
}

interface Draft {
  readonly name: string
  readonly arrivalMs: number
  readonly spec: FileSpec
  readonly bytes: Buffer
}

const TAG: Readonly<Record<ProviderName, (iso: string) => string>> = {
  northwind: (d) => d,
  lumen: (d) => `${d.slice(8, 10)}${d.slice(5, 7)}${d.slice(0, 4)}`,
  atlas: (d) => `${d.slice(5, 7)}-${d.slice(8, 10)}-${d.slice(0, 4)}`,
  fundsxml: (d) => d,
  emt: (d) => d,
  openfunds: (d) => d,
}

const extension = (provider: ProviderName): string => (provider === 'fundsxml' ? '.xml' : '.csv')

/** The EMT sender's template version and its fixed columns (the rows carry them, so faults can change them). */
const EMT_VERSION = 'V4.2'

/**
 * A whole business day of fund files, deterministic in the seed: the same options give
 * byte-identical files and manifest. No wall clock is read.
 */
export function generateDay(options: GenerateOptions): GeneratedDay {
  const f = new Faker({ locale: [en, base] })
  f.seed(options.seed)
  const kinds = new Set<FileKind>(options.kinds ?? ['nav', 'holdings', 'reference'])
  // Senders that carry none of the day's kinds would add funds without files (and never fill the day).
  const providers = (options.providers ?? PROVIDERS).filter((p) => PROVIDER_KINDS[p].some((k) => kinds.has(k)))
  if (providers.length === 0) throw new Error(`none of the providers ${(options.providers ?? []).join(', ')} sends ${[...kinds].join(', ')} files`)
  const universe = new Universe(f, providers)
  const previous = businessDaysBefore(options.date, 1)
  const faultCycle = f.helpers.shuffle([...FAULT_KINDS])
  let seq = 0
  let events = 0
  const drafts: Draft[] = []
  const minutes = (from: number, to: number): number => f.number.int({ min: from * 60_000, max: to * 60_000 })
  const tri = (): number => (f.number.float({ min: -1, max: 1 }) + f.number.float({ min: -1, max: 1 })) / 2

  // Each faulted file takes the kind used least so far that fits it, so every kind shows up.
  const used = new Map<FaultKind, number>(faultCycle.map((k) => [k, 0]))
  const nextFault = (spec: FileSpec, baselineDelivered: boolean): FaultKind | null => {
    if (f.number.float({ min: 0, max: 1 }) >= options.faults) return null
    let best: FaultKind | null = null
    for (const fault of faultCycle) {
      if (!canInject(fault, spec, { baselineDelivered })) continue
      if (best === null || (used.get(fault) ?? 0) < (used.get(best) ?? 0)) best = fault
    }
    if (best !== null) used.set(best, (used.get(best) ?? 0) + 1)
    return best
  }
  const add = (spec: FileSpec, arrivalMs: number, dataDay: string, name?: string): Draft => {
    const fileName = name ?? `${spec.provider}-${spec.kind}-${TAG[spec.provider](dataDay)}-${String(++seq).padStart(6, '0')}${extension(spec.provider)}`
    const draft: Draft = { name: fileName, arrivalMs: Math.min(arrivalMs, LAST_MS_OF_DAY), spec, bytes: renderSpec(spec) }
    drafts.push(draft)
    events += eventsFor(spec.expected)
    return draft
  }
  const specOf = (fund: Fund, kind: FileKind, role: FileRole, rows: CanonicalRow[]): FileSpec => ({
    provider: fund.provider, kind, role, rows, render: {}, encoding: 'utf-8', empty: 'no', faults: [], expected: delivered(role === 'nav-late' ? ['stale-data'] : []),
  })
  const navRows = (fund: Fund, day: string, move: (nav: number) => number): CanonicalRow[] => {
    const rows = fund.classes.map((c) => {
      const nav = Math.round(move(c.navBase) * 10_000) / 10_000
      const assets = Math.round(nav * c.sharesOutstanding * 100) / 100
      return { isin: c.isin, shareClassName: c.name, navDate: day, nav, currency: c.currency, lei: fund.lei, totalNetAssets: assets, sharesOutstanding: c.sharesOutstanding, classNetAssets: assets }
    })
    // The fund total the standards state beside the classes (their classes share the fund's currency).
    const total = Math.round(rows.reduce((a, r) => a + r.classNetAssets * 100, 0)) / 100
    return rows.map((r) => ({ ...r, fundNetAssets: total, fundCurrency: fund.classes[0]?.currency ?? r.currency, domicile: fund.domicile }))
  }
  /** The fund type's CSSF 24/856 tolerance: quiet days stay well inside it. */
  const tolerance = (fund: Fund): number => NAV_TOLERANCE[fundTypeOf(fund.assetClass)]

  /** One fund's files of the day, each maybe faulted; extra-file faults add a file. */
  const planFund = (fund: Fund): void => {
    const planned: { spec: FileSpec; arrivalMs: number; day: string }[] = []
    const onlyOne = kinds.size === 1
    const sends = (kind: FileKind): boolean => kinds.has(kind) && PROVIDER_KINDS[fund.provider].includes(kind)
    // An EMT sender sends only its template, so every one of its funds does.
    if (sends('reference') && (onlyOne || f.number.float() < 0.2 || fund.provider === 'emt')) {
      const emt = { emtVersion: EMT_VERSION, idType: 1, referenceDate: options.date, retail: 'Y' }
      const rows = fund.classes.map((c, i) => ({
        isin: c.isin, fundName: c.name, lei: fund.lei, currency: c.currency, domicile: fund.domicile, assetClass: fund.assetClass, manager: fund.manager,
        ...(fund.provider === 'emt' ? { ...emt, ongoingCosts: Math.round((0.004 + 0.002 * i + (fund.assetClass === 'Equity' ? 0.008 : 0.003)) * 10_000) / 10_000 } : {}),
      }))
      planned.push({ spec: specOf(fund, 'reference', 'reference', rows), arrivalMs: minutes(5 * 60, 9 * 60), day: options.date })
    }
    if (sends('nav') && f.number.float() < 0.4) {
      planned.push({ spec: specOf(fund, 'nav', 'nav-previous', navRows(fund, previous, (n) => n)), arrivalMs: minutes(6 * 60, 10 * 60), day: previous })
    }
    if (sends('holdings') && (onlyOne || f.number.float() < 0.35)) {
      const lead = fund.classes[0]
      if (lead === undefined) throw new Error('a fund has no share class')
      const held = f.helpers.arrayElements(universe.securities, { min: 3, max: 8 })
      const raw = held.map(() => f.number.float({ min: 1, max: 10 }))
      const total = raw.reduce((a, b) => a + b, 0)
      const weights = raw.map((w) => Math.round((10_000 * w) / total) / 100)
      weights[weights.length - 1] = Math.round((100 - weights.slice(0, -1).reduce((a, b) => a + b, 0)) * 100) / 100
      const assets = lead.navBase * lead.sharesOutstanding
      const rows = held.map((s, i) => ({ fundIsin: lead.isin, holdingIsin: s.isin, holdingName: s.name, weight: weights[i] ?? 0, marketValue: Math.round(((weights[i] ?? 0) / 100) * assets * 100) / 100, currency: lead.currency, asOfDate: previous }))
      planned.push({ spec: specOf(fund, 'holdings', 'holdings', rows), arrivalMs: minutes(7 * 60, 15 * 60), day: previous })
    }
    if (sends('nav')) {
      // A quiet day: within 60% of the fund type's tolerance either way (a late file's NAV, 30%,
      // may be the baseline instead of the day before, so the two together stay inside it).
      const move = tri() * 0.6 * tolerance(fund)
      // Most NAVs come after the 17:00 cut-off, densest just after it and thinning out towards
      // 23:30 (the minimum of two uniform draws: a density falling linearly, with no spike); some at midday.
      const evening = Math.min(f.number.float(), f.number.float())
      const arrival = f.number.float() < 0.85 ? 17 * HOUR_MS + Math.floor(6.5 * HOUR_MS * evening) : minutes(12 * 60, 17 * 60)
      planned.push({ spec: specOf(fund, 'nav', 'nav-today', navRows(fund, options.date, (n) => n * (1 + move))), arrivalMs: arrival, day: options.date })
    }
    let baselineDelivered = false
    for (const p of planned) {
      const fault = nextFault(p.spec, baselineDelivered)
      if (fault !== null && !EXTRA_FILE_FAULTS.has(fault)) injectFault(fault, p.spec, f)
      const draft = add(p.spec, p.arrivalMs, p.day)
      if (p.spec.role === 'nav-previous') baselineDelivered = p.spec.expected.outcome === 'delivered'
      if (fault === 'duplicate-file') {
        const copy: FileSpec = { ...p.spec, faults: ['duplicate-file'], expected: { outcome: 'duplicate', of: draft.name } }
        const ext = extension(p.spec.provider)
        add(copy, draft.arrivalMs + minutes(2, 45), p.day, `${draft.name.slice(0, -ext.length)}-resend${ext}`)
      } else if (fault === 'late-file') {
        const back = f.number.int({ min: 3, max: 6 })
        const day = businessDaysBefore(options.date, back)
        const late = specOf(fund, 'nav', 'nav-late', navRows(fund, day, (n) => n * (1 + tri() * 0.3 * tolerance(fund))))
        late.faults.push('late-file')
        add(late, minutes(8 * 60, 20 * 60), day)
      }
    }
  }

  while (events < options.eventsPerDay) planFund(universe.nextFund())
  return assemble(options, [...kinds], providers, drafts, universe.referenceTables())
}

/** Sorts by arrival, marks later copies of the same bytes as duplicates (what ingest does), builds the manifest. */
function assemble(options: GenerateOptions, kinds: FileKind[], providers: readonly ProviderName[], drafts: Draft[], reference: GeneratedDay['reference']): GeneratedDay {
  const ordered = drafts.map((d, i) => ({ d, i })).sort((a, b) => a.d.arrivalMs - b.d.arrivalMs || a.i - b.i).map((x) => x.d)
  const firstByHash = new Map<string, string>()
  const files = new Map<string, Buffer>()
  const entries: ManifestFile[] = ordered.map((d) => {
    const hash = contentHash(d.bytes)
    const first = firstByHash.get(hash)
    if (first === undefined) firstByHash.set(hash, d.name)
    const expected = first === undefined ? d.spec.expected : { outcome: 'duplicate' as const, of: first }
    files.set(d.name, d.bytes)
    const rows = d.spec.empty === 'no' ? d.spec.rows.length : 0
    return { name: d.name, arrivalMs: d.arrivalMs, kind: d.spec.kind, provider: d.spec.provider, rows, bytes: d.bytes.byteLength, faults: d.spec.faults, expected, events: eventsFor(expected) }
  })
  const manifest: Manifest = {
    version: 1,
    seed: options.seed,
    date: options.date,
    eventsPerDay: options.eventsPerDay,
    faultRate: options.faults,
    kinds,
    providers: [...providers],
    expectedEvents: entries.reduce((a, e) => a + e.events, 0),
    referenceDir: 'reference',
    inboxDir: 'inbox',
    files: entries,
  }
  return { manifest, files, reference }
}
