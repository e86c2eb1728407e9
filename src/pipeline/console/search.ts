import { escapeGlob, type Bus } from '../../bus/index.js'
import { journeyKey, projectionState, readLatestNav, type FileJourney } from '../projections.js'
import { STAGE } from '../stages/names.js'

export interface SearchHit {
  readonly correlationId: string
  readonly fileName: string | null
  readonly status: string | null
  readonly matched: 'correlation id' | 'file name' | 'ISIN'
}

/** One page of hits; `cursor` continues the search (null: nothing more to look at). */
export interface SearchPage {
  readonly query: string
  readonly hits: readonly SearchHit[]
  readonly cursor: string | null
  /** Keys looked at for this page: the search is bounded per request, whatever the namespace holds. */
  readonly scanned: number
}

const ISIN = /^[A-Z]{2}[A-Z0-9]{9}\d$/
/** Keys SCAN looks at per request at most: a page costs the same with 100 or 100,000 files retained. */
const SCAN_BUDGET = 20_000
const SCAN_COUNT = 1_000

/**
 * Finds files by correlation id (whole, or any part of it: the index keys `corr:<id>`), by file
 * name (the file-journey projection's `file:<id>` records) or by ISIN (the nav-latest
 * projection: the file that set the latest NAV). Paged: the cursor is the phase and SCAN cursor.
 */
export async function searchFiles(bus: Bus, query: string, options: { cursor?: string | null; limit?: number } = {}): Promise<SearchPage> {
  const q = query.trim()
  const limit = Math.min(Math.max(options.limit ?? 25, 1), 100)
  if (q === '') return { query: q, hits: [], cursor: null, scanned: 0 }
  const hits: SearchHit[] = []
  const seen = new Set<string>()
  let cursor = options.cursor ?? null
  if (cursor === null) {
    if (ISIN.test(q.toUpperCase())) {
      const nav = await readLatestNav(projectionState(bus, STAGE.navLatest), q)
      if (nav !== null) hits.push({ correlationId: nav.correlationId, fileName: null, status: null, matched: 'ISIN' })
    }
    if ((await bus.redis.exists(bus.keys.correlation(q))) === 1) hits.push({ correlationId: q, fileName: null, status: null, matched: 'correlation id' })
    for (const h of hits) seen.add(h.correlationId)
    cursor = 'id:0'
  }
  const phases = [
    { name: 'id', prefix: bus.keys.correlation(''), match: `*${escapeGlob(q.toLowerCase())}*`, matched: 'correlation id' as const },
    { name: 'name', prefix: bus.keys.state(STAGE.fileJourney, journeyKey('')), match: '*', matched: 'file name' as const },
  ]
  let scanned = 0
  const at = phases.findIndex((p) => cursor?.startsWith(`${p.name}:`))
  let phase = Math.max(at, 0)
  let scan = at < 0 ? '0' : (cursor as string).slice((phases[at] as (typeof phases)[number]).name.length + 1)
  const needle = q.toLowerCase()
  while (phase < phases.length && hits.length < limit && scanned < SCAN_BUDGET) {
    const p = phases[phase] as (typeof phases)[number]
    const [next, keys] = await bus.redis.scan(scan, 'MATCH', `${escapeGlob(p.prefix)}${p.match}`, 'COUNT', SCAN_COUNT)
    scanned += SCAN_COUNT
    if (p.name === 'id') {
      for (const key of keys) {
        const id = key.slice(p.prefix.length)
        if (!seen.has(id)) hits.push({ correlationId: id, fileName: null, status: null, matched: p.matched })
        seen.add(id)
      }
    } else if (keys.length > 0) {
      const values = await bus.redis.mget(...keys)
      keys.forEach((key, i) => {
        const raw = values[i]
        if (raw === null || raw === undefined) return
        const journey = JSON.parse(raw) as FileJourney
        const id = key.slice(p.prefix.length)
        if (!seen.has(id) && journey.fileName.toLowerCase().includes(needle)) {
          seen.add(id)
          hits.push({ correlationId: id, fileName: journey.fileName, status: journey.status, matched: p.matched })
        }
      })
    }
    scan = next
    if (scan === '0') {
      phase += 1
      scan = '0'
    }
  }
  const more = phase < phases.length ? `${(phases[phase] as (typeof phases)[number]).name}:${scan}` : null
  return { query: q, hits: await withJourneys(bus, hits), cursor: more, scanned }
}

/** Hits found by id or ISIN get their file name and status from the file-journey projection (one MGET). */
async function withJourneys(bus: Bus, hits: readonly SearchHit[]): Promise<SearchHit[]> {
  const missing = hits.filter((h) => h.fileName === null)
  if (missing.length === 0) return [...hits]
  const values = await bus.redis.mget(...missing.map((h) => bus.keys.state(STAGE.fileJourney, journeyKey(h.correlationId))))
  const found = new Map(missing.map((h, i) => [h.correlationId, values[i] ? (JSON.parse(values[i]) as FileJourney) : null]))
  return hits.map((h) => {
    const j = found.get(h.correlationId)
    return j ? { ...h, fileName: j.fileName, status: j.status } : h
  })
}
