import { FIELD_SPECS } from './fields.js'
import type { ReferenceData } from './reference.js'
import { businessDaysBetween, isoDay } from './rules/dates.js'
import { fundTypeOf, NAV_TOLERANCE } from './rules/nav-tolerance.js'
import type { PipelineRecord, ScoreComponents, ScoredPayload, ScoreFlag, ValidatedPayload } from './types.js'

/** Last known NAV of a share class, as the score consumer keeps it (hash `last-nav`, field = ISIN). */
export interface LastNav {
  readonly nav: number
  readonly navDate: string
  /** The NAV before this one, so a replayed file is compared with what it was compared with the first time. */
  readonly previous?: { readonly nav: number; readonly navDate: string }
}

export interface ScoreOptions {
  /**
   * The reference data's asset class of a share class (by ISIN): its fund type sets the NAV
   * move that is flagged (CSSF 24/856: money-market 0.20%, bond and mixed 0.50%, equity and
   * other 1%). Unknown funds are "other".
   */
  readonly assetClassOf?: (isin: string) => string | undefined
}

/** Weights of the components in the 0-100 score. */
export const SCORE_WEIGHTS: Readonly<ScoreComponents> = { completeness: 0.3, validity: 0.3, timeliness: 0.2, consistency: 0.2 }

export interface ScoreResult {
  readonly payload: ScoredPayload
  /** Last-NAV entries to write (only ISINs whose NAV date moved forward). */
  readonly updates: ReadonlyMap<string, LastNav>
}

/** The NAV a record dated `navDate` is compared with: strictly earlier than it, or none. */
export function navBaseline(stored: LastNav | null | undefined, navDate: string): { nav: number; navDate: string } | null {
  if (stored === null || stored === undefined) return null
  if (stored.navDate < navDate) return { nav: stored.nav, navDate: stored.navDate }
  if (stored.previous !== undefined && stored.previous.navDate < navDate) return stored.previous
  return null
}

/** Full marks up to one business day late; 25 points off per further business day. */
export function timelinessScore(dataDay: string, receivedDay: string): number {
  const lag = businessDaysBetween(dataDay, receivedDay)
  return lag <= 1 ? 100 : Math.max(0, 100 - 25 * (lag - 1))
}

function completeness(kind: ValidatedPayload['kind'], records: readonly PipelineRecord[]): number {
  const optional = FIELD_SPECS[kind].filter((s) => !s.mandatory && s.standard !== true).map((s) => s.name)
  if (optional.length === 0 || records.length === 0) return 100
  let filled = 0
  for (const r of records) for (const f of optional) if (r.fields[f] !== null && r.fields[f] !== undefined) filled++
  return (100 * filled) / (optional.length * records.length)
}

function validity(file: ValidatedPayload): number {
  const rows = new Set(file.warnings.filter((w) => w.row !== undefined).map((w) => w.row))
  const fileLevel = file.warnings.filter((w) => w.row === undefined).length
  const share = file.rowCount === 0 ? 0 : rows.size / file.rowCount
  return Math.max(0, 100 * (1 - share) - 10 * fileLevel)
}

function timeliness(file: ValidatedPayload, flags: ScoreFlag[]): number {
  const field = file.kind === 'nav' ? 'navDate' : file.kind === 'holdings' ? 'asOfDate' : null
  if (field === null) return 100
  const days = file.records.map((r) => r.fields[field]).filter((d): d is string => typeof d === 'string')
  if (days.length === 0) return 0
  const oldest = days.reduce((a, b) => (a < b ? a : b))
  const received = isoDay(new Date(file.receivedAt))
  const score = timelinessScore(oldest, received)
  if (score < 100) flags.push({ rule: 'stale-data', message: `data dated ${oldest} arrived ${received}, more than one business day later` })
  return score
}

/** Score's options from the reference data: each fund's asset class sets its NAV tolerance. */
export function scoreOptionsFor(reference: ReferenceData): ScoreOptions {
  return { assetClassOf: (isin) => reference.funds.get(isin)?.assetClass }
}

function navConsistency(file: ValidatedPayload, lastNavs: ReadonlyMap<string, LastNav>, assetClassOf: ScoreOptions['assetClassOf'], flags: ScoreFlag[]): { score: number; updates: Map<string, LastNav> } {
  const updates = new Map<string, LastNav>()
  const navs = file.records
    .map((r) => ({ row: r.row, isin: r.fields.isin, nav: r.fields.nav, navDate: r.fields.navDate }))
    .filter((r): r is { row: number; isin: string; nav: number; navDate: string } => typeof r.isin === 'string' && typeof r.nav === 'number' && typeof r.navDate === 'string')
    .sort((a, b) => (a.isin === b.isin ? a.navDate.localeCompare(b.navDate) : a.isin.localeCompare(b.isin)))
  let jumps = 0
  for (const r of navs) {
    const known = updates.get(r.isin) ?? lastNavs.get(r.isin) ?? null
    const base = navBaseline(known, r.navDate)
    if (base !== null && base.nav > 0) {
      const move = (r.nav - base.nav) / base.nav
      const type = fundTypeOf(assetClassOf?.(r.isin))
      const threshold = NAV_TOLERANCE[type]
      if (Math.abs(move) > threshold) {
        jumps++
        flags.push({
          rule: 'nav-jump',
          row: r.row,
          isin: r.isin,
          message: `NAV of ${r.isin} moved ${(move * 100).toFixed(2)}% from ${base.nav} (${base.navDate}) to ${r.nav} (${r.navDate}), over the ${(threshold * 100).toFixed(2)}% CSSF 24/856 tolerance of a ${type} fund`,
        })
      }
    }
    if (known === null || r.navDate > known.navDate) {
      updates.set(r.isin, { nav: r.nav, navDate: r.navDate, ...(known === null ? {} : { previous: { nav: known.nav, navDate: known.navDate } }) })
    }
  }
  return { score: navs.length === 0 ? 100 : 100 * (1 - jumps / navs.length), updates }
}

function holdingsConsistency(records: readonly PipelineRecord[]): number {
  const sums = new Map<string, number>()
  for (const r of records) {
    if (typeof r.fields.fundIsin === 'string' && typeof r.fields.weight === 'number') {
      sums.set(r.fields.fundIsin, (sums.get(r.fields.fundIsin) ?? 0) + r.fields.weight)
    }
  }
  const worst = Math.max(0, ...[...sums.values()].map((s) => Math.abs(s - 100)))
  return Math.max(0, 100 - 40 * worst) // within the 0.5pp tolerance costs at most 20 points
}

const round1 = (n: number): number => Math.round(n * 10) / 10

/** Score as a pure function; `lastNavs` holds the stored last NAV of the file's ISINs. */
export function scoreFile(file: ValidatedPayload, lastNavs: ReadonlyMap<string, LastNav>, options: ScoreOptions = {}): ScoreResult {
  const flags: ScoreFlag[] = []
  let consistency = 100
  let updates = new Map<string, LastNav>()
  if (file.kind === 'nav') ({ score: consistency, updates } = navConsistency(file, lastNavs, options.assetClassOf, flags))
  else if (file.kind === 'holdings') consistency = holdingsConsistency(file.records)
  const components: ScoreComponents = {
    completeness: round1(completeness(file.kind, file.records)),
    validity: round1(validity(file)),
    timeliness: round1(timeliness(file, flags)),
    consistency: round1(consistency),
  }
  const total =
    components.completeness * SCORE_WEIGHTS.completeness +
    components.validity * SCORE_WEIGHTS.validity +
    components.timeliness * SCORE_WEIGHTS.timeliness +
    components.consistency * SCORE_WEIGHTS.consistency
  return {
    payload: {
      fileName: file.fileName,
      contentHash: file.contentHash,
      kind: file.kind,
      provider: file.provider,
      receivedAt: file.receivedAt,
      score: Math.round(total),
      components,
      flags,
    },
    updates,
  }
}
