import type { RedisOptions } from 'ioredis'
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
  if (scheme !== 'redis:' && scheme !== 'rediss:') throw invalid(`the scheme must be redis:// or rediss://, not ${scheme}//`)
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

/** The full ioredis options for one of our clients (see `connect`). */
export function clientOptions(
  url: string,
  options: { longLived: boolean; connectTimeoutMs: number; connectionName?: string },
): RedisOptions {
  return {
    ...parseRedisUrl(url),
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
