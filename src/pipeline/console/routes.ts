// The web console's routes behind `up`'s HTTP server: the page, its bundle, a JSON API and the
// live figures over server-sent events. http.ts routes here; every answer carries the security headers.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { purgeDeadLetters, type Bus, type ConsumerDefinition } from '../../bus/index.js'
import { EventspineError, errorMessage, hasCode } from '../../errors.js'
import type { RuntimeSnapshot } from '../host/figures.js'
import { readTrace } from '../inspect/read.js'
import { readTopology } from '../inspect/topology.js'
import { replayDeadLettersOn } from '../repair.js'
import type { PipelineSource } from '../source.js'
import { deadLetterPage } from './dead-letters.js'
import { pipelineGraph } from './graph.js'
import { crossSiteRequest, securityHeaders, tokenAccepted } from './guard.js'
import { consoleBundle, livePage } from './page.js'
import { searchFiles } from './search.js'
import { streamPage } from './streams.js'

/** What the console reads from the host that runs it. */
export interface ConsoleHost {
  readonly bus: Bus
  readonly source: PipelineSource
  /** The consumers the host runs (any team's), for the graph and for re-delivery. */
  readonly consumers: () => readonly ConsumerDefinition[]
  readonly snapshot: () => RuntimeSnapshot
  readonly onSnapshot: (listener: (snapshot: RuntimeSnapshot) => void) => () => void
}

export interface ConsoleRequest {
  readonly host: ConsoleHost
  readonly token: string
  readonly port: number
}

/** Handles `/`, `/assets/*` and `/api/*`; false for any other path (http.ts answers those). */
export async function consoleRoute(ctx: ConsoleRequest, req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
  const path = url.pathname
  if (path !== '/' && !path.startsWith('/assets/') && !path.startsWith('/api/')) return false
  securityHeaders(res)
  try {
    await answer(ctx, req, res, url)
  } catch (error) {
    // A request a person can fix (an unknown consumer, a bad id) is a 400 with its code; anything else goes up as a 500.
    if (!(error instanceof EventspineError) || !error.userFixable) throw error
    send(res, error.code === 'E_CONSOLE_NOT_BUILT' ? 503 : 400, { error: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) })
  }
  return true
}

async function answer(ctx: ConsoleRequest, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const path = url.pathname
  if (req.method === 'POST') {
    if (!tokenAccepted(req, ctx.token, ctx.port)) {
      return send(res, 403, { error: 'forbidden', message: 'a request that changes something needs the console token in the x-eventspine-token header (the URL `pipeline up` printed)' })
    }
    return post(ctx.host, path, await readJson(req), res)
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD, POST')
    return send(res, 405, { error: 'method not allowed' })
  }
  if (path.startsWith('/api/') && crossSiteRequest(req, ctx.port)) {
    return send(res, 403, { error: 'forbidden', message: 'the console API answers only its own pages (this request came from another site)' })
  }
  if (path === '/') return page(res, 'text/html; charset=utf-8', livePage())
  if (path === '/assets/app.js') return page(res, 'text/javascript; charset=utf-8', consoleBundle().script)
  if (path === '/assets/app.css') return page(res, 'text/css; charset=utf-8', consoleBundle().style)
  return get(ctx.host, path, url.searchParams, req, res)
}

async function get(host: ConsoleHost, path: string, params: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { bus } = host
  const paging = { cursor: params.get('cursor'), limit: Number(params.get('limit') ?? 25) || 25 }
  if (path === '/api/graph') return send(res, 200, graphNow(host))
  if (path === '/api/live') return live(host, req, res)
  if (path === '/api/search') return send(res, 200, await searchFiles(bus, params.get('q') ?? '', paging))
  const file = /^\/api\/files\/([^/]+)$/.exec(path)
  if (file) return trace(host, pathPart(file[1] as string), res)
  const dlq = /^\/api\/dlq\/([^/]+)$/.exec(path)
  if (dlq) return send(res, 200, await deadLetterPage(bus, known(host, pathPart(dlq[1] as string)), { ...paging, cursor: entryCursor(paging.cursor) }))
  const stream = /^\/api\/streams\/([^/]+)$/.exec(path)
  if (stream) return send(res, 200, await streamPage(bus, knownStream(host, pathPart(stream[1] as string)), { ...paging, cursor: entryCursor(paging.cursor) }))
  send(res, 404, { error: 'not found' })
}

/** Replay and purge: the dead-letter actions, the only requests that change anything. */
async function post(host: ConsoleHost, path: string, body: Record<string, unknown>, res: ServerResponse): Promise<void> {
  const consumer = typeof body.consumer === 'string' ? known(host, body.consumer) : undefined
  if (path === '/api/dlq/replay') {
    const ids = Array.isArray(body.ids) ? body.ids.filter((x): x is string => typeof x === 'string') : []
    const all = body.all === true
    if ((ids.length === 0) === !all) return send(res, 400, { error: 'E_DLQ_NOTHING_CHOSEN', message: 'give ids, or all: true' })
    const replayed = await replayDeadLettersOn(host.bus, host.consumers(), { ids, all, consumer })
    // "Replay all" may be thousands of dead letters: the counts, and the first results only.
    return send(res, 200, { ...replayed, results: replayed.results.slice(0, MAX_RESULTS), resultsLeftOut: Math.max(0, replayed.results.length - MAX_RESULTS) })
  }
  if (path === '/api/dlq/purge') {
    if (consumer === undefined) return send(res, 400, { error: 'E_UNKNOWN_CONSUMER', message: 'name the consumer whose dead letters to purge' })
    return send(res, 200, await purgeDeadLetters(host.bus, { consumer }))
  }
  send(res, 404, { error: 'not found' })
}

function graphNow(host: ConsoleHost) {
  return pipelineGraph(host.consumers(), host.source.intakeEmits, host.snapshot())
}

/** Server-sent events: the graph now, then again after every snapshot (once a second). */
function live(host: ConsoleHost, req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store' })
  const push = () => res.write(`event: graph\ndata: ${JSON.stringify(graphNow(host))}\n\n`)
  push()
  const unsubscribe = host.onSnapshot(push)
  req.on('close', unsubscribe)
}

/** A file's waterfall by its exact correlation id (search finds ids; no lookup by name here, which would scan). */
async function trace(host: ConsoleHost, correlationId: string, res: ServerResponse): Promise<void> {
  try {
    const found = await readTrace(host.bus, correlationId, await readTopology(host.bus, {}, host.source))
    if (found === null) return send(res, 404, { error: 'E_TRACE_NOT_FOUND', message: `no events for correlation id "${correlationId}"` })
    send(res, 200, found)
  } catch (error) {
    if (hasCode(error, 'E_TRACE_AMBIGUOUS')) return send(res, 409, { error: 'E_TRACE_AMBIGUOUS', message: errorMessage(error) })
    throw error
  }
}

/** A consumer the host runs; any other name is refused before Redis is asked (no key built from free text). */
function known(host: ConsoleHost, name: string): string {
  if (host.consumers().some((c) => c.name === name)) return name
  throw new EventspineError('E_UNKNOWN_CONSUMER', `no consumer named "${name}" runs here`)
}

/** A stream the graph shows (its type); any other name is refused before a key is built from it. */
function knownStream(host: ConsoleHost, type: string): string {
  if (graphNow(host).streams.some((s) => s.type === type)) return type
  throw new EventspineError('E_CONSOLE_REQUEST', `no stream "${type}" in this pipeline`)
}

/** A path segment decoded; a malformed escape (`%E0`) is the request's fault, not a 500. */
function pathPart(raw: string): string {
  try {
    return decodeURIComponent(raw)
  } catch {
    throw new EventspineError('E_CONSOLE_REQUEST', `the path segment "${raw.slice(0, 80)}" is not valid percent-encoding`)
  }
}

/** A page cursor of an entry list: an entry id, or none. */
function entryCursor(cursor: string | null): string | null {
  if (cursor === null || /^\d+-\d+$/.test(cursor)) return cursor
  throw new EventspineError('E_CONSOLE_REQUEST', `the cursor "${cursor.slice(0, 80)}" is not an entry id`)
}

/** Results a replay answers with at most (the counts cover all). */
const MAX_RESULTS = 100

const MAX_BODY = 64 * 1024

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let size = 0
  const chunks: Buffer[] = []
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_BODY) throw new EventspineError('E_CONSOLE_REQUEST', 'request body too large')
    chunks.push(chunk)
  }
  if (chunks.length === 0) return {}
  try {
    const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'))
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {}
  } catch (error) {
    throw new EventspineError('E_CONSOLE_REQUEST', `request body is not JSON: ${errorMessage(error)}`)
  }
}

function page(res: ServerResponse, type: string, body: string): void {
  res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' })
  res.end(body)
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' })
  res.end(JSON.stringify(body))
}
