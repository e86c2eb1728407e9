import { Cluster, Redis, type RedisOptions } from 'ioredis'
import { clusterNotReadyError, connectError, sanitizeRedisError } from './errors.js'
import { isCluster, type RedisClient } from './nodes.js'
import { redactUrl } from './redact.js'
import { asCluster, clusterOptions, nodeOptions, parseConnectionUrl, type ClientSettings, type ConnectionTarget } from './url.js'

export interface ConnectOptions {
  /**
   * Long-lived clients (the runtime, blocking reads) queue commands through a Redis restart
   * (`maxRetriesPerRequest: null`); short-lived CLI clients fail fast. Default true.
   */
  longLived?: boolean
  /** How long the first connection (and each reconnect) may take. Default 5000 ms. */
  connectTimeoutMs?: number
  /** Shown by CLIENT LIST, handy when tracing which consumer holds a connection. */
  connectionName?: string
  /** Errors after the first connection (already sanitised); the client keeps reconnecting. */
  onError?: (error: Error) => void
  /** More ioredis options (on a cluster: of each node connection). */
  redisOptions?: RedisOptions
}

/**
 * Opens an ioredis client for our runtime and waits until it is ready: a Cluster client for a
 * `redis+cluster://` URL, or for a plain URL whose server says `cluster_enabled:1` (any node of
 * a cluster will do), else a Redis client. A first connection that fails becomes
 * `E_REDIS_UNREACHABLE` or `E_REDIS_AUTH` with the URL redacted; after that the client
 * reconnects with capped backoff. TLS for `rediss://`. Auto-pipelining off.
 */
export async function connect(url: string, options: ConnectOptions = {}): Promise<RedisClient> {
  const target = parseConnectionUrl(url)
  const client = await connectTo(target, options)
  if (isCluster(client) || !(await clusterEnabled(client))) return client
  // A node that answers but whose cluster is not ready would otherwise look unreachable.
  const state = /^cluster_state:(\S+)/m.exec(String(await client.call('CLUSTER', 'INFO').catch(() => '')))?.[1] ?? 'unknown'
  await closeQuietly(client)
  if (state !== 'ok') throw clusterNotReadyError(redactUrl(url), state)
  return connectTo(asCluster(target), options)
}

/** A plain connection to the URL's (first) node, cluster or not: to ask a cluster that is not ready about itself. */
export function connectNode(url: string, options: ConnectOptions = {}): Promise<RedisClient> {
  const target = parseConnectionUrl(url)
  const first = target.kind === 'cluster' ? target.seeds[0] : target.options
  return connectTo(first === undefined ? target : { kind: 'standalone', url, options: first }, options)
}

/** Where a connected client points: what `newClient` needs to open more of its kind. */
export function targetOf(url: string, client: RedisClient): ConnectionTarget {
  const target = parseConnectionUrl(url)
  return isCluster(client) ? asCluster(target) : target
}

/** A new client of the target's kind, connecting at once unless `extra.lazyConnect`; not awaited. */
export function newClient(target: ConnectionTarget, settings: ClientSettings, extra: RedisOptions = {}): RedisClient {
  if (target.kind === 'cluster') return new Cluster([...target.seeds], clusterOptions(target, settings, { lazyConnect: false, ...extra }))
  return new Redis({ ...nodeOptions(target.options, settings), lazyConnect: false, ...extra })
}

async function clusterEnabled(client: Redis): Promise<boolean> {
  try {
    return /^cluster_enabled:1\b/m.test(await client.info('cluster'))
  } catch {
    return false // INFO refused (a proxy, an ACL): take it as what it pretends to be
  }
}

async function connectTo(target: ConnectionTarget, options: ConnectOptions): Promise<RedisClient> {
  const url = target.url
  const connectTimeoutMs = options.connectTimeoutMs ?? 5_000
  const settings: ClientSettings = {
    longLived: options.longLived ?? true,
    connectTimeoutMs,
    ...(options.connectionName === undefined ? {} : { connectionName: options.connectionName }),
  }
  const client = newClient(target, settings, { ...options.redisOptions, lazyConnect: true })
  // ioredis error events carry AUTH args; without a listener it would also print them.
  let firstError: Error | undefined
  let ready = false
  client.on('error', (error: Error) => {
    sanitizeRedisError(error)
    if (!ready) firstError ??= error
    else options.onError?.(error)
  })
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([
      client.connect(),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${connectTimeoutMs} ms`)), connectTimeoutMs + 500)
      }),
    ])
    ready = true
    return client
  } catch (error) {
    client.disconnect()
    // connect() only says "Connection is closed."; the error event says why.
    throw connectError(redactUrl(url), firstError ?? error)
  } finally {
    clearTimeout(timer)
  }
}

/** Hands out connections to one Redis and closes them all at the end. */
export interface ConnectionFactory {
  readonly url: string
  readonly displayUrl: string
  /** A new connection (each blocking read needs its own). */
  create(options?: ConnectOptions): Promise<RedisClient>
  /** QUITs every connection this factory opened. */
  closeAll(): Promise<void>
}

export function createConnectionFactory(url: string, defaults: ConnectOptions = {}): ConnectionFactory {
  const open = new Set<RedisClient>()
  return {
    url,
    displayUrl: redactUrl(url),
    async create(options = {}) {
      const client = await connect(url, { ...defaults, ...options })
      open.add(client)
      client.once('end', () => open.delete(client))
      return client
    },
    async closeAll() {
      const clients = [...open]
      open.clear()
      await Promise.all(clients.map((client) => closeQuietly(client)))
    },
  }
}

/** QUIT, or drop the socket when Redis is gone; never throws. */
export async function closeQuietly(client: RedisClient): Promise<void> {
  if (client.status === 'end') return
  if (client.status !== 'ready') {
    client.disconnect()
    return
  }
  const ended = new Promise<void>((resolve) => client.once('end', () => resolve()))
  try {
    await client.quit()
  } catch {
    client.disconnect()
  }
  // QUIT's reply comes before the socket closes; wait so callers see status 'end'.
  await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, 1_000).unref())])
}
