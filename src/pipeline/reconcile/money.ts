import { readIndexRows } from '../../bus/correlation.js'
import { eachPartition, partitionBus, type Bus } from '../../bus/index.js'
import { decodeEvent } from '../../events/envelope.js'
import { CLASS_SUM_TOLERANCE, NAV_SHARES_TOLERANCE } from '../fund-rules.js'
import { NAV_LATEST_HASH, newerNav, type LatestNav } from '../projections.js'
import { EVENT, type ValidatedPayload } from '../types.js'

type RawEntry = [id: string, fields: string[]]

/** One fund, by its latest NAV document delivered in the window. */
export interface FundMoney {
  /** The fund's LEI ('-' when the document has none). */
  readonly fund: string
  readonly navDate: string
  readonly correlationId: string
  readonly fileName: string
  /** The document's total net assets of the fund (null when it does not say). */
  readonly totalNetAssets: number | null
  /** Sum over share classes of NAV x shares outstanding, as the document says. */
  readonly documentSum: number
  /** The same sum with each class's NAV from the read model (classes it has from this document). */
  readonly readModelSum: number
  /** Classes the read model has from a newer file: left out of both sums' comparison. */
  readonly newer: number
}

export interface MoneyReconciliation {
  readonly readModel: string
  readonly funds: readonly FundMoney[]
  readonly problems: readonly string[]
}

const PAGE = 100
const round2 = (n: number): number => Math.round(n * 100) / 100

/**
 * Money of the fund read models against the delivered documents: per fund, its latest NAV file
 * delivered in the window (its validated records), total net assets against the sum of share
 * class NAV x shares (within the rules' tolerances), and that sum again with the NAVs the
 * `nav-latest` read model serves.
 */
export async function reconcileMoney(bus: Bus, options: { readonly readModel: string; readonly from: string; readonly to: string }): Promise<MoneyReconciliation> {
  const latest = new Map<string, { doc: ValidatedPayload; correlationId: string; navDate: string }>()
  for (let p = 0; p < bus.partitionCount; p++) {
    const view = partitionBus(bus, p)
    let from = options.from
    for (;;) {
      const page = (await view.redis.xrange(view.keys.stream(EVENT.delivered), from, options.to, 'COUNT', PAGE)) as RawEntry[]
      for (const [, fields] of page) {
        const delivered = decodeEvent(fields)
        if ((delivered.payload as { kind?: unknown }).kind !== 'nav') continue
        const doc = await validatedDocument(bus, delivered.correlationId)
        if (!doc) continue
        for (const [fund, navDate] of fundsOf(doc)) {
          const held = latest.get(fund)
          const candidate = { nav: 0, currency: '', navDate, correlationId: delivered.correlationId }
          if (!held || newerNav({ nav: 0, currency: '', navDate: held.navDate, correlationId: held.correlationId }, candidate)) latest.set(fund, { doc, correlationId: delivered.correlationId, navDate })
        }
      }
      if (page.length < PAGE) break
      from = `(${(page[page.length - 1] as RawEntry)[0]}`
    }
  }
  // The read model serves an ISIN from the partitions its files went to: each partition's hash, the newest NAV of each ISIN.
  const served: Record<string, string> = {}
  for (const hash of await eachPartition(bus, (view) => view.redis.hgetall(view.keys.state(options.readModel, NAV_LATEST_HASH)))) {
    for (const [isin, raw] of Object.entries(hash)) {
      const held = served[isin]
      if (held === undefined || newerNav(JSON.parse(held) as LatestNav, JSON.parse(raw) as LatestNav)) served[isin] = raw
    }
  }
  const funds: FundMoney[] = []
  const problems: string[] = []
  for (const [fund, { doc, correlationId, navDate }] of [...latest].sort(([a], [b]) => a.localeCompare(b))) {
    let totalNetAssets: number | null = null
    let documentSum = 0
    let readModelSum = 0
    let compared = 0
    let newer = 0
    const off: string[] = []
    for (const r of doc.records) {
      if ((r.fields.lei ?? '-') !== fund) continue
      const { nav, sharesOutstanding: shares, isin, fundNetAssets } = r.fields
      if (typeof fundNetAssets === 'number' && totalNetAssets === null) totalNetAssets = fundNetAssets
      if (typeof nav !== 'number' || typeof shares !== 'number' || typeof isin !== 'string') continue
      documentSum += nav * shares
      const raw = served[isin] ?? served[isin.toUpperCase()]
      const model = raw === undefined ? null : (JSON.parse(raw) as LatestNav)
      if (model !== null && model.correlationId !== correlationId && newerNav({ nav, currency: '', navDate, correlationId }, model)) {
        newer++
        readModelSum += nav * shares
        continue
      }
      compared++
      readModelSum += (model?.nav ?? 0) * shares
      if (model === null || model.nav !== nav) off.push(`${isin} ${model === null ? 'missing' : `${model.nav} (document ${nav})`}`)
    }
    funds.push({ fund, navDate, correlationId, fileName: doc.fileName, totalNetAssets, documentSum: round2(documentSum), readModelSum: round2(readModelSum), newer })
    if (off.length > 0) problems.push(`fund ${fund} (${doc.fileName}, NAV date ${navDate}): ${options.readModel} serves other NAVs than the delivered document for ${off.length} of ${compared} share classes: ${off.join(', ')}; NAV x shares ${round2(readModelSum)} against ${round2(documentSum)}`)
    if (totalNetAssets !== null && Math.abs(documentSum - totalNetAssets) > totalNetAssets * NAV_SHARES_TOLERANCE + CLASS_SUM_TOLERANCE) {
      problems.push(`fund ${fund} (${doc.fileName}): share classes' NAV x shares add up to ${round2(documentSum)}, the fund's total net assets are ${totalNetAssets}`)
    }
  }
  return { readModel: options.readModel, funds, problems }
}

/** The validated records of a file, from its correlation index. */
async function validatedDocument(bus: Bus, correlationId: string): Promise<ValidatedPayload | null> {
  const row = (await readIndexRows(bus, correlationId)).find((r) => r.kind === 'event' && r.type === EVENT.validated)
  if (row?.kind !== 'event') return null
  const view = partitionBus(bus, row.partition)
  const [entry] = (await view.redis.xrange(view.keys.stream(row.type), row.entryId, row.entryId)) as RawEntry[]
  return entry ? (decodeEvent(entry[1]).payload as ValidatedPayload) : null
}

/** Funds a NAV document covers, each with its NAV date. */
function fundsOf(doc: ValidatedPayload): Map<string, string> {
  const out = new Map<string, string>()
  for (const r of doc.records) {
    const fund = typeof r.fields.lei === 'string' ? r.fields.lei : '-'
    if (typeof r.fields.navDate === 'string' && !out.has(fund)) out.set(fund, r.fields.navDate)
  }
  return out
}
