import { sriFromGrid } from './rules/sri.js'
import type { FileKind, FundStandard, Issue, PipelineRecord } from './types.js'

/**
 * The file-level rules fund-data teams apply to what the standards carry (FundsXML, EMT/EPT,
 * openfunds), each fatal and each under its own rule name. They read canonical fields only, so
 * a CSV layout that maps the same fields gets the same checks.
 */

/**
 * NAV per share x shares outstanding may differ from the share class's net assets by this
 * share of them: 0.05% covers a NAV published to four decimals on a large class, not an error.
 */
export const NAV_SHARES_TOLERANCE = 0.0005

/** Share classes' net assets must add up to the fund's total within one unit of currency. */
export const CLASS_SUM_TOLERANCE = 1

/** Position percentages of a FundsXML portfolio must sum to 100 within this many points. */
export const POSITION_PERCENT_TOLERANCE = 1

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)
const round2 = (n: number): number => Math.round(n * 100) / 100

/** `nav-shares-net-assets`: NAV x shares outstanding against the class's net assets, per record. */
export function navSharesProblems(records: readonly PipelineRecord[]): Issue[] {
  const out: Issue[] = []
  for (const r of records) {
    const nav = num(r.fields.nav)
    const shares = num(r.fields.sharesOutstanding)
    const assets = num(r.fields.classNetAssets)
    if (nav === null || shares === null || assets === null || assets <= 0) continue
    const product = nav * shares
    const off = Math.abs(product - assets) / assets
    if (off > NAV_SHARES_TOLERANCE) {
      out.push({
        row: r.row,
        column: 'classNetAssets',
        value: String(assets),
        rule: 'nav-shares-net-assets',
        message: `NAV ${nav} x ${shares} shares = ${round2(product)}, ${(off * 100).toFixed(2)}% off the share class's net assets ${assets} (tolerance ${NAV_SHARES_TOLERANCE * 100}%)`,
      })
    }
  }
  return out
}

/** `class-net-assets-sum`: per fund (LEI), the share classes' net assets against the fund's total. */
export function classSumProblems(records: readonly PipelineRecord[]): Issue[] {
  const funds = new Map<string, { total: number; sum: number; complete: boolean; row: number }>()
  for (const r of records) {
    const total = num(r.fields.fundNetAssets)
    if (total === null) continue
    const key = typeof r.fields.lei === 'string' ? r.fields.lei : ''
    const entry = funds.get(key) ?? { total, sum: 0, complete: true, row: r.row }
    const assets = num(r.fields.classNetAssets)
    if (assets === null) entry.complete = false
    else entry.sum += assets
    funds.set(key, entry)
  }
  const out: Issue[] = []
  for (const [lei, { total, sum, complete, row }] of funds) {
    if (!complete || Math.abs(sum - total) <= CLASS_SUM_TOLERANCE) continue
    out.push({
      row,
      column: 'fundNetAssets',
      value: String(total),
      rule: 'class-net-assets-sum',
      message: `share classes${lei === '' ? '' : ` of fund ${lei}`} hold ${round2(sum)} in net assets; the fund's total says ${total} (off by ${round2(sum - total)}, more than ${CLASS_SUM_TOLERANCE} unit of currency)`,
    })
  }
  return out
}

/**
 * `nav-dates-agree`: one document, one valuation day (share-class and fund-level dates alike).
 * For the standards only: a CSV layout may carry several days of NAVs (a catch-up file).
 */
export function navDateProblems(records: readonly PipelineRecord[]): Issue[] {
  const days = new Map<string, number>()
  for (const r of records) {
    for (const field of ['navDate', 'fundNavDate']) {
      const d = r.fields[field]
      if (typeof d === 'string' && !days.has(d)) days.set(d, r.row)
    }
  }
  if (days.size <= 1) return []
  const list = [...days.keys()].sort()
  return [{ row: [...days.values()][1] ?? 1, column: 'navDate', value: list.join(','), rule: 'nav-dates-agree', message: `the file's NAV dates disagree (${list.join(', ')}): one file values one day` }]
}

/** `sri-grid`: an EPT SRI that was not adjusted must be the grid value of its MRM and CRM. */
export function sriProblems(records: readonly PipelineRecord[]): Issue[] {
  const out: Issue[] = []
  for (const r of records) {
    const sri = num(r.fields.sri)
    const mrm = num(r.fields.mrm)
    const crm = num(r.fields.crm)
    if (sri === null || mrm === null || crm === null) continue
    const adjusted = String(r.fields.sriAdjusted ?? '').toLowerCase()
    if (adjusted === 'y' || adjusted === 'yes' || adjusted === 'true') continue
    const grid = sriFromGrid(mrm, crm)
    if (grid === null || grid !== sri) {
      out.push({
        row: r.row,
        column: 'sri',
        value: String(sri),
        rule: 'sri-grid',
        message: grid === null ? `MRM ${mrm} / CRM ${crm} are outside the PRIIPs grid (MRM 1-7, CRM 1-6)` : `SRI ${sri} is not the grid value ${grid} for MRM ${mrm} and CRM ${crm}, and the SRI is not marked adjusted`,
      })
    }
  }
  return out
}

/** `position-percentages`: per portfolio, position percentages sum to 100 +/- 1. */
export function positionProblems(records: readonly PipelineRecord[]): Issue[] {
  const sums = new Map<string, number>()
  for (const r of records) {
    const fund = typeof r.fields.fundIsin === 'string' ? r.fields.fundIsin : ''
    const w = num(r.fields.weight)
    if (w !== null) sums.set(fund, (sums.get(fund) ?? 0) + w)
  }
  const out: Issue[] = []
  for (const [fund, sum] of sums) {
    const rounded = Math.round(sum * 1e6) / 1e6
    if (Math.abs(rounded - 100) > POSITION_PERCENT_TOLERANCE) {
      out.push({ column: 'weight', value: String(rounded), rule: 'position-percentages', message: `positions of ${fund} sum to ${rounded}%, not 100% ± ${POSITION_PERCENT_TOLERANCE}` })
    }
  }
  return out
}

/** Every file-level fund rule that applies to a kind (and the standard its provider follows). */
export function fundRuleProblems(kind: FileKind, records: readonly PipelineRecord[], standard: FundStandard | undefined): Issue[] {
  if (kind === 'nav') return [...(standard === undefined ? [] : navDateProblems(records)), ...navSharesProblems(records), ...classSumProblems(records)]
  if (kind === 'reference') return sriProblems(records)
  return []
}
