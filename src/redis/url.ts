import type { ClusterOptions, RedisOptions } from 'ioredis'
import { EventspineError } from '../errors.js'
import { RedisErrorCode } from './errors.js'
import { redactUrl } from './redact.js'

/** Connection options taken from a URL: where, who, which db, and TLS for `rediss://`. */
export interface UrlOptions {
  host: string
  port: number
  db: number
  username?: string
  password?: string
  /** Present for `rediss://`: TLS with SNI set to the host name. */
  tls?: { servername: string }
}

/**
 * Parses `redis://[user[:pass]@]host[:port][/db]` and `rediss://...` into ioredis options.
 * Done here rather than by ioredis so a bad URL fails early with a redacted message.
 */
export function parseRedisUrl(url: string): UrlOptions {
  const invalid = (why: string) =>
    new EventspineError(RedisErrorCode.InvalidUrl, `"${redactUrl(url)}" is not a usable Redis URL: ${why}.`, {
      hint: 'Use redis://host:port/db, with any credentials before the host (user:password@host), or rediss:// for TLS; e.g. redis://127.0.0.1:6379/0.',
    })
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw invalid('it does not parse as a URL')
  }
  const scheme = parsed.protocol.toLowerCase()
  if (scheme !== 'redis:' && scheme !== 'rediss:') throw invalid(`the scheme must be redis://, rediss:// or redis+cluster://, not ${scheme}//`)
  if (parsed.hostname === '') throw invalid('it has no host')
  const path = parsed.pathname.replace(/^\//, '')
  const db = path === '' ? 0 : Number(path)
  if (!Number.isInteger(db) || db < 0) throw invalid(`the database "${path}" is not a number`)
  const host = parsed.hostname.replace(/^\[|\]$/g, '')
  const options: UrlOptions = { host, port: parsed.port === '' ? 6379 : Number(parsed.port), db }
  // A lone `secret@` is taken as the password (a user name without one could never log in).
  const username = decodeURIComponent(parsed.username)
  const password = decodeURIComponent(parsed.password)
  const queryPassword = parsed.searchParams.get('password')
  if (password !== '') {
    options.password = password
    if (username !== '') options.username = username
  } else if (queryPassword !== null) {
    options.password = queryPassword
    if (username !== '') options.username = username
  } else if (username !== '') {
    options.password = username
  }
  if (scheme === 'rediss:') options.tls = { servername: host }
  return options
}

/** Where a URL points: one Redis, or the seed nodes of a Redis Cluster (sharing credentials and TLS). */
export type ConnectionTarget = StandaloneTarget | ClusterTarget
export interface StandaloneTarget {
  readonly kind: 'standalone'
  readonly url: string
  readonly options: UrlOptions
}
export interface ClusterTarget {
  readonly kind: 'cluster'
  readonly url: string
  readonly seeds: readonly UrlOptions[]
}

const CLUSTER_URL = /^(rediss?)\+cluster:\/\/(.*)$/i

/**
 * `redis+cluster://[user[:pass]@]host:port[,host:port...]` (and `rediss+cluster://`) name a
 * cluster by its seeds; any other URL is parsed by {@link parseRedisUrl}. A cluster has only
 * database 0.
 */
export function parseConnectionUrl(url: string): ConnectionTarget {
  const cluster = CLUSTER_URL.exec(url.trim())
  if (cluster === null) return { kind: 'standalone', url, options: parseRedisUrl(url) }
  const [, scheme, rest = ''] = cluster
  const end = rest.search(/[/?]/)
  const authority = end < 0 ? rest : rest.slice(0, end)
  const tail = end < 0 ? '' : rest.slice(end)
  const at = authority.lastIndexOf('@')
  const userinfo = authority.slice(0, at + 1)
  const hosts = authority.slice(at + 1).split(',').filter((h) => h !== '')
  const invalid = (why: string) =>
    new EventspineError(RedisErrorCode.InvalidUrl, `"${redactUrl(url)}" is not a usable Redis Cluster URL: ${why}.`, {
      hint: 'Use redis+cluster://host:port,host:port (any node of the cluster; credentials before the first host), or rediss+cluster:// for TLS.',
    })
  if (hosts.length === 0) throw invalid('it names no node')
  const seeds = hosts.map((host) => parseRedisUrl(`${(scheme ?? 'redis').toLowerCase()}://${userinfo}${host}${tail}`))
  if (seeds.some((seed) => seed.db !== 0)) throw invalid('a cluster has only database 0')
  return { kind: 'cluster', url, seeds }
}

/** The same place seen as a cluster: a plain URL whose server said `cluster_enabled:1` is its one seed. */
export function asCluster(target: ConnectionTarget): ClusterTarget {
  return target.kind === 'cluster' ? target : { kind: 'cluster', url: target.url, seeds: [target.options] }
}

export interface ClientSettings {
  longLived: boolean
  connectTimeoutMs: number
  connectionName?: string
}

/** The full ioredis options for one of our clients (see `connect`). */
export function clientOptions(url: string, options: ClientSettings): RedisOptions {
  return nodeOptions(parseRedisUrl(url), options)
}

/**
 * The options of a Cluster client: each node connection as `clientOptions` makes it, and
 * MOVED, ASK, TRYAGAIN, CLUSTERDOWN and a lost node retried after a slots refresh, for long
 * enough (64 tries, 300 ms apart when waiting) to ride out a failover (node timeout + election)
 * or a live reshard. `extra` are node options (a blocking read's); `autoResendUnfulfilledCommands:
 * false` also stops the Cluster itself re-sending a command whose node connection closed.
 */
export function clusterOptions(target: ClusterTarget, options: ClientSettings, extra: RedisOptions = {}): ClusterOptions {
  const [seed] = target.seeds
  const node = nodeOptions(seed ?? { host: '127.0.0.1', port: 6379, db: 0 }, options)
  const { host: _host, port: _port, db: _db, lazyConnect: _lazy, retryStrategy, ...shared } = { ...node, ...extra }
  return {
    lazyConnect: extra.lazyConnect ?? true,
    enableAutoPipelining: false,
    redisOptions: shared,
    clusterRetryStrategy: (times) => (options.longLived ? (retryStrategy?.(times) ?? 2_000) : times > 2 ? null : 100),
    retryDelayOnMoved: 0,
    retryDelayOnTryAgain: 100,
    retryDelayOnClusterDown: 300,
    retryDelayOnFailover: extra.autoResendUnfulfilledCommands === false ? 0 : 300,
    maxRedirections: 64,
    slotsRefreshTimeout: Math.max(1_000, Math.min(options.connectTimeoutMs, 5_000)),
    // TLS checks the certificate against the name: keep host names, do not resolve them to IPs.
    ...(seed?.tls === undefined ? {} : { dnsLookup: (address: string, callback: (error: null, address: string) => void) => callback(null, address) }),
  }
}

/** ioredis options of one node connection. */
export function nodeOptions(where: UrlOptions, options: ClientSettings): RedisOptions {
  return {
    ...where,
    // We call connect() ourselves so a failed first attempt surfaces as one clear error.
    lazyConnect: true,
    // Off: batching across callers reorders nothing but hides which caller a failure belongs to.
    enableAutoPipelining: false,
    connectTimeout: options.connectTimeoutMs,
    // Long-lived clients wait out a Redis restart; one-shot CLI clients fail after one retry.
    maxRetriesPerRequest: options.longLived ? null : 1,
    retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 10), 2_000),
    // ioredis arms this timer even for a socket that already failed, keeping the CLI alive 2 s.
    disconnectTimeout: 200,
    ...(options.connectionName === undefined ? {} : { connectionName: options.connectionName }),
  }
}
