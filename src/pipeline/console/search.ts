import { eachPartition, escapeGlob, partitionBus, type Bus } from '../../bus/index.js'
import { EventspineError } from '../../errors.js'
import { scanPage } from '../../redis/index.js'
import { FILE_NAMES_HASH, journeyKey, projectionState, readLatestNav, type FileJourney } from '../projections.js'
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
  /** Entries looked at for this page: the search is bounded per request, whatever the namespace holds. */
  readonly scanned: number
}

const ISIN = /^[A-Z]{2}[A-Z0-9]{9}\d$/
/** Entries (H)SCAN is asked to look at per request at most: a request costs about the same with 100 or 100,000 files retained, and the page asks for more with the cursor. */
const SCAN_BUDGET = 5_000
const SCAN_COUNT = 500

/**
 * Finds files by ISIN (the nav-latest projection: the file that set the latest NAV), by whole
 * correlation id (its index key `corr:<id>`), and by any part of a file name or correlation id:
 * HSCAN MATCH over the file-journey projection's name index (FILE_NAMES_HASH), or, for a
 * pipeline without that projection, SCAN over the index keys (ids only). Paged by cursor.
 */
export async function searchFiles(bus: Bus, query: string, options: { cursor?: string | null; limit?: number } = {}): Promise<SearchPage> {
  const q = query.trim()
  const limit = Math.min(Math.max(options.limit ?? 25, 1), 100)
  if (q === '') return { query: q, hits: [], cursor: null, scanned: 0 }
  const hits: SearchHit[] = []
  const seen = new Set<string>()
  const add = (hit: SearchHit) => {
    if (seen.has(hit.correlationId)) return
    seen.add(hit.correlationId)
    hits.push(hit)
  }
  const namesKey = (view: Bus) => view.keys.state(STAGE.fileJourney, FILE_NAMES_HASH)
  let cursor = options.cursor ?? null
  // With partitions a cursor names the partition being scanned: `names:<partition>.<scan cursor>`;
  // on a cluster a key scan's cursor also names the node: `<node>-<cursor>`.
  if (cursor !== null && !(bus.partitionCount === 1 ? /^(names:\d+|keys:(\d+-)?\d+)$/ : /^(names:\d+\.\d+|keys:\d+\.(\d+-)?\d+)$/).test(cursor)) {
    throw new EventspineError('E_CONSOLE_REQUEST', `the search cursor "${cursor.slice(0, 80)}" is not one this console gave out`)
  }
  if (cursor === null) {
    if (ISIN.test(q.toUpperCase())) {
      const nav = await readLatestNav(projectionState(bus, STAGE.navLatest), q)
      if (nav !== null) add({ correlationId: nav.correlationId, fileName: null, status: null, matched: 'ISIN' })
    }
    if ((await eachPartition(bus, (view) => view.redis.exists(view.keys.correlation(q)))).includes(1)) add({ correlationId: q, fileName: null, status: null, matched: 'correlation id' })
    const phase = (await eachPartition(bus, (view) => view.redis.exists(namesKey(view)))).includes(1) ? 'names' : 'keys'
    cursor = bus.partitionCount === 1 ? `${phase}:0` : `${phase}:0.0`
  }
  const [phase, position] = cursor.split(':') as [string, string]
  const dot = position.indexOf('.')
  let partition = dot < 0 ? 0 : Number(position.slice(0, dot))
  if (partition >= bus.partitionCount) throw new EventspineError('E_CONSOLE_REQUEST', `the search cursor "${cursor.slice(0, 80)}" is not one this console gave out`)
  let scan = position.slice(dot + 1)
  let scanned = 0
  let done = false
  const needle = q.toLowerCase()
  do {
    const view = partitionBus(bus, partition)
    if (phase === 'names') {
      const [next, flat] = await view.redis.hscan(namesKey(view), scan, 'MATCH', `*${escapeGlob(needle)}*`, 'COUNT', SCAN_COUNT)
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const field = flat[i] as string
        const id = flat[i + 1] as string
        const name = field.slice(0, field.length - id.length - 1)
        add({ correlationId: id, fileName: null, status: null, matched: name.includes(needle) ? 'file name' : 'correlation id' })
      }
      scan = next
    } else {
      const prefix = view.keys.correlation('')
      const { cursor: next, keys } = await scanPage(view.redis, scan, { match: `${escapeGlob(prefix)}*${escapeGlob(needle)}*`, count: SCAN_COUNT })
      for (const key of keys) add({ correlationId: key.slice(prefix.length), fileName: null, status: null, matched: 'correlation id' })
      scan = next
    }
    scanned += SCAN_COUNT
    // A partition scanned through: on to the next one, from its start (scan '0'), after the last one done.
    if (scan === '0') {
      if (partition + 1 < bus.partitionCount) partition++
      else done = true
    }
  } while (!done && hits.length < limit && scanned < SCAN_BUDGET)
  // One (H)SCAN batch may match more than a page: the page is cut to `limit` (the rest come again
  // with the next cursor, since the cursor is where the scan stood after this batch: a few hits
  // at a page's end are skipped rather than shown twice).
  return { query: q, hits: await withJourneys(bus, hits.slice(0, limit)), cursor: done ? null : bus.partitionCount === 1 ? `${phase}:${scan}` : `${phase}:${partition}.${scan}`, scanned }
}

/** Each hit's file name and status from the file-journey projection (one MGET per partition: a journey is in its file's). */
async function withJourneys(bus: Bus, hits: readonly SearchHit[]): Promise<SearchHit[]> {
  if (hits.length === 0) return []
  const each = await eachPartition(bus, (view) => view.redis.mget(...hits.map((h) => view.keys.state(STAGE.fileJourney, journeyKey(h.correlationId)))))
  return hits.map((h, i) => {
    const raw = each.map((values) => values[i]).find((v) => v != null)
    if (!raw) return h
    const j = JSON.parse(raw) as FileJourney
    return { ...h, fileName: j.fileName, status: j.status }
  })
}
