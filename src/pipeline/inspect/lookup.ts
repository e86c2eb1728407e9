import { readFile, stat } from 'node:fs/promises'
import { eachPartition } from '../../bus/across.js'
import { escapeGlob, type Bus } from '../../bus/index.js'
import { EventspineError } from '../../errors.js'
import { scanAll } from '../../redis/index.js'
import { decodeEvent } from '../../events/index.js'
import { isEventId } from '../../events/ids.js'
import { contentHash } from '../intake.js'
import { seenKey, STAGE } from '../stages/names.js'
import { EVENT } from '../types.js'

/** How a file was found: through ingest's dedup state (O(1)) or a bounded scan of recent arrivals. */
export type FoundVia = 'ingest-state' | 'received-stream'

export interface FoundFile {
  readonly correlationId: string
  readonly contentHash: string
  readonly via: FoundVia
}

/** Received entries looked at, newest first, when ingest has not seen the file yet. */
export const RECEIVED_SCAN_LIMIT = 1_000
const PAGE = 100

/**
 * The correlation id of the file with these bytes. First ingest's dedup state: `seen:<hash>`
 * holds the correlation id of the first file with this content, one GET whatever the stream
 * holds. A file ingest has not handled yet (just received, or ingest not running) is looked
 * for among the newest received entries only (`scanLimit`), keyed by the same content hash:
 * such a file is recent by definition, and each received entry carries its whole file, so an
 * unbounded scan would read every file ever received.
 */
export async function findFileCorrelation(bus: Bus, content: Uint8Array, scanLimit = RECEIVED_SCAN_LIMIT): Promise<FoundFile | null> {
  const hash = contentHash(content)
  // Ingest's state is in the partition the file went to: asked in every one (one GET each, in parallel).
  const seen = (await eachPartition(bus, (view) => view.redis.get(view.keys.state(STAGE.ingest, seenKey(hash))))).find((s) => s !== null)
  if (seen != null) return { correlationId: seen, contentHash: hash, via: 'ingest-state' }
  for (const found of await eachPartition(bus, (view) => scanReceived(view, hash, scanLimit))) if (found !== null) return found
  return null
}

/** The newest `scanLimit` received entries of the partition of `bus.keys`, for a file with this content hash. */
async function scanReceived(bus: Bus, hash: string, scanLimit: number): Promise<FoundFile | null> {
  const stream = bus.keys.stream(EVENT.received)
  let end = '+'
  for (let looked = 0; looked < scanLimit; ) {
    const page = (await bus.redis.xrevrange(stream, end, '-', 'COUNT', Math.min(PAGE, scanLimit - looked))) as [string, string[]][]
    for (const [, fields] of page) {
      const keyAt = fields.indexOf('key')
      if (keyAt >= 0 && keyAt % 2 === 0 && fields[keyAt + 1] === hash) {
        return { correlationId: decodeEvent(fields).correlationId, contentHash: hash, via: 'received-stream' }
      }
    }
    looked += page.length
    const last = page[page.length - 1]
    if (!last || page.length < PAGE) break
    end = `(${last[0]}`
  }
  return null
}

/** What `trace` was given: a correlation id, or the path of a file that was ingested. */
export type TraceTarget = { readonly kind: 'id'; readonly correlationId: string } | { readonly kind: 'file'; readonly path: string; readonly content: Buffer }

const LOOKS_LIKE_PATH = /[/\\]|\.(csv|json|txt|tsv|xml|xlsx?)$/i

/** An existing file is a file; something path-like that does not exist is an error; else an id. */
export async function traceTarget(value: string): Promise<TraceTarget> {
  const info = await stat(value).catch(() => null)
  if (info?.isFile()) return { kind: 'file', path: value, content: await readFile(value) }
  if (info?.isDirectory()) {
    throw new EventspineError('E_TRACE_TARGET', `${value} is a directory`, { hint: 'Give the path of one file, or a correlation id.' })
  }
  if (LOOKS_LIKE_PATH.test(value)) {
    throw new EventspineError('E_TRACE_TARGET', `No such file: ${value}`, { hint: 'Give the path of a file that was dropped into the pipeline, or a correlation id.' })
  }
  return { kind: 'id', correlationId: value }
}

/** Candidates named in the ambiguity error; more are counted, not listed. */
const LISTED = 10

/**
 * The correlation id that `value` stands for: the id itself when its index exists (or it is a
 * whole UUID), else the one known id that starts or ends with it (`tail` shows the last
 * characters: the first ones of a UUIDv7 are its timestamp, shared by files of the same moment).
 * One SCAN over the namespace's index keys (per partition); null when none matches, an error when several do.
 */
export async function resolveCorrelationId(bus: Bus, value: string): Promise<string | null> {
  const wanted = value.trim().toLowerCase()
  if (isEventId(wanted) || (await eachPartition(bus, (view) => view.redis.exists(view.keys.correlation(value)))).includes(1)) return value
  if (wanted === '') return null
  const found = new Set<string>()
  // One SCAN per partition: a file's index rows may be in several, its id is counted once.
  for (const ids of await eachPartition(bus, (view) => scanCorrelationIds(view, wanted))) for (const id of ids) found.add(id)
  const matches = [...found].sort()
  if (matches.length <= 1) return matches[0] ?? null
  const listed = matches.slice(0, LISTED).map((id) => `  ${id}`)
  const more = matches.length > LISTED ? [`  … and ${matches.length - LISTED} more`] : []
  throw new EventspineError('E_TRACE_AMBIGUOUS', `"${value}" matches ${matches.length} correlation ids in namespace "${bus.namespace}":\n${[...listed, ...more].join('\n')}`, {
    hint: 'Give more characters of the id (`pipeline tail` shows the last 8), or the whole id.',
    details: { candidates: matches },
  })
}

/** Correlation ids with an index in the partition of `bus.keys` that start or end with `wanted`. */
async function scanCorrelationIds(bus: Bus, wanted: string): Promise<string[]> {
  const prefix = bus.keys.correlation('')
  const found: string[] = []
  for (const key of await scanAll(bus.redis, { match: `${escapeGlob(prefix)}*${escapeGlob(wanted)}*` })) {
    const id = key.slice(prefix.length)
    if (id.toLowerCase().startsWith(wanted) || id.toLowerCase().endsWith(wanted)) found.push(id)
  }
  return found
}
