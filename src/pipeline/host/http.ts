import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import ms from 'ms'
import type { Registry } from 'prom-client'
import type { Bus } from '../../bus/bus.js'
import { readBreakers } from '../../bus/breaker.js'
import { readCorrelation, type IndexedItem } from '../../bus/correlation.js'
import { EventspineError, errorMessage } from '../../errors.js'
import { pollUntil, readEnding } from '../ending.js'
import { projectionState, readFileJourney, readLatestNav } from '../projections.js'
import { STAGE } from '../stages/names.js'
import { loopbackHost, newToken } from '../console/guard.js'
import { consoleRoute, type ConsoleHost, type ConsoleRequest } from '../console/routes.js'

export interface HttpOptions {
  readonly bus: Bus
  /** 0 = any free port. */
  readonly port: number
  /** Default 127.0.0.1: the API answers questions about your data, so it stays on loopback. */
  readonly host?: string
  /** What `/metrics` serves (see prometheus.ts). */
  readonly metrics: Registry
  /** Consumers running in this process and whether each is still alive. */
  readonly consumers: () => readonly { readonly name: string; readonly running: boolean }[]
  /** Serve the web console at `/` (pipeline up). */
  readonly console?: ConsoleHost
}

export interface HttpApi {
  readonly url: string
  readonly server: Server
  /** The console's address with this run's token (what `up` prints); null without a console. */
  readonly consoleUrl: string | null
  close(): Promise<void>
}

export { projectionState }

/**
 * Loopback HTTP for questions that want an answer now: `/health`, `/metrics` (Prometheus),
 * `/files/:correlationId` (journey and events) and `/funds/:isin` (latest NAV).
 */
export async function startHttp(options: HttpOptions): Promise<HttpApi> {
  const token = newToken()
  let port = 0
  const server = createServer((req, res) => {
    // DNS rebinding: a foreign page whose name resolves to loopback still sends its own name as Host.
    if (!loopbackHost(req.headers.host, port)) return send(res, 421, { error: 'misdirected request', message: 'only loopback names (127.0.0.1, localhost, [::1]) are served' })
    const ctx = options.console ? { host: options.console, token, port } : null
    route(options, ctx, req, res).catch((error) => {
      if (!res.headersSent) send(res, 500, { error: 'internal', message: errorMessage(error) })
      else res.end()
    })
  })
  const host = options.host ?? '127.0.0.1'
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE' || error.code === 'EACCES'
          ? new EventspineError('E_HTTP_PORT', `cannot serve HTTP on ${host}:${options.port}: ${error.code === 'EADDRINUSE' ? 'the port is in use' : 'permission denied'}`, {
              hint: 'Pass another --port, or --port 0 for any free port.',
            })
          : error,
      )
    })
    server.listen(options.port, host, () => resolve())
  })
  port = (server.address() as AddressInfo).port
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
  return {
    url,
    server,
    consoleUrl: options.console ? `${url}/?token=${token}` : null,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

async function route(options: HttpOptions, ctx: ConsoleRequest | null, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost')
  const path = url.pathname
  if (ctx !== null && (await consoleRoute(ctx, req, res, url))) return
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'method not allowed', allow: 'GET' })
  if (path === '/health') return health(options, res)
  if (path === '/metrics') {
    const text = await options.metrics.metrics()
    res.writeHead(200, { 'content-type': options.metrics.contentType })
    res.end(text)
    return
  }
  const file = /^\/files\/([^/]+)$/.exec(path)
  if (file) {
    const wait = waitParam(url.searchParams.get('wait'))
    if (typeof wait === 'string') return send(res, 400, { error: wait })
    return fileJourney(options.bus, decodeURIComponent(file[1] as string), res, wait)
  }
  const fund = /^\/funds\/([^/]+)$/.exec(path)
  if (fund) return latestNav(options.bus, decodeURIComponent(fund[1] as string), res)
  send(res, 404, { error: 'not found', endpoints: [...(ctx ? ['/ (console)'] : []), '/health', '/metrics', '/files/:correlationId', '/funds/:isin'] })
}

async function health(options: HttpOptions, res: ServerResponse): Promise<void> {
  const redis = await Promise.race([
    options.bus.redis.ping().then(() => 'up' as const, () => 'down' as const),
    new Promise<'down'>((resolve) => setTimeout(() => resolve('down'), 1_000).unref()),
  ])
  const running = options.consumers()
  // A paused consumer (its breaker open) runs but takes no events: the pipeline is degraded.
  const breakers = redis === 'up' ? await readBreakers(options.bus, running.map((c) => c.name)).catch(() => running.map(() => null)) : running.map(() => null)
  const consumers = running.map((c, i) => {
    const b = breakers[i]
    return b?.open ? { ...c, paused: { reason: b.reason, lastError: b.lastError, since: new Date(b.since).toISOString(), nextProbeAt: b.nextProbeAt === null ? null : new Date(b.nextProbeAt).toISOString() } } : c
  })
  const ok = redis === 'up' && consumers.every((c) => c.running && !('paused' in c))
  send(res, ok ? 200 : 503, { status: ok ? 'ok' : 'degraded', redis, consumers })
}

/** Longest `?wait=` honoured: a long poll, not a connection held open for good. */
const MAX_WAIT_MS = 60_000
const ENDED = new Set(['delivered', 'rejected', 'duplicate'])

/** `?wait=5s` (or milliseconds) as a number, bounded by MAX_WAIT_MS; a message when it is not a duration. */
function waitParam(value: string | null): number | string {
  if (value === null) return 0
  const span = /^\d+$/.test(value) ? Number(value) : (ms(value as ms.StringValue) as number | undefined)
  if (typeof span !== 'number' || !(span >= 0)) return `wait "${value}" is not a duration such as 500ms or 5s`
  return Math.min(span, MAX_WAIT_MS)
}

async function fileJourney(bus: Bus, correlationId: string, res: ServerResponse, waitMs: number): Promise<void> {
  if (waitMs > 0) {
    // Long poll: until the file has an ending and its journey shows it, or the wait runs out.
    const deadline = Date.now() + waitMs
    const ended = await pollUntil(() => readEnding(bus, correlationId), { timeoutMs: waitMs })
    if (ended !== null) {
      const journeyState = projectionState(bus, STAGE.fileJourney)
      await pollUntil(async () => (ENDED.has((await readFileJourney(journeyState, correlationId))?.status ?? '') ? true : null), { timeoutMs: Math.max(0, deadline - Date.now()) })
    }
  }
  const [journey, items] = await Promise.all([readFileJourney(projectionState(bus, STAGE.fileJourney), correlationId), readCorrelation(bus, correlationId)])
  if (journey === null && items.length === 0) return send(res, 404, { error: 'unknown file', correlationId })
  send(res, 200, { correlationId, journey, events: items.map(describeItem) })
}

async function latestNav(bus: Bus, isin: string, res: ServerResponse): Promise<void> {
  const nav = await readLatestNav(projectionState(bus, STAGE.navLatest), isin)
  if (nav === null) return send(res, 404, { error: 'no NAV known for this ISIN', isin: isin.toUpperCase() })
  send(res, 200, { isin: isin.toUpperCase(), ...nav })
}

/** An event of the journey without the bulk (file content, rows, records): counts instead. */
function describeItem(item: IndexedItem): unknown {
  if (item.kind === 'dead-letter') return { kind: item.kind, consumer: item.consumer, entryId: item.entryId, fields: item.fields }
  if (item.event === null) return { kind: item.kind, type: item.type, entryId: item.entryId, trimmed: true }
  const { payload, ...envelope } = item.event
  return { kind: item.kind, entryId: item.entryId, ...envelope, payload: summarise(payload) }
}

function summarise(payload: unknown): unknown {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return payload
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(payload as Record<string, unknown>)) {
    if (k === 'contentBase64') continue
    if ((k === 'rows' || k === 'records') && Array.isArray(v)) out[`${k}Count`] = v.length
    else out[k] = v
  }
  return out
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' })
  res.end(`${JSON.stringify(body, null, 2)}\n`)
}
