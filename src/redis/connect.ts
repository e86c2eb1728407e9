import { Redis } from 'ioredis'
import { connectError, sanitizeRedisError } from './errors.js'
import { redactUrl } from './redact.js'
import { clientOptions } from './url.js'

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
}

/**
 * Opens an ioredis client for our runtime and waits until it is ready. A first connection
 * that fails becomes `E_REDIS_UNREACHABLE` or `E_REDIS_AUTH` with the URL redacted; after
 * that the client reconnects with capped backoff. TLS for `rediss://`. Auto-pipelining off.
 */
export async function connect(url: string, options: ConnectOptions = {}): Promise<Redis> {
  const connectTimeoutMs = options.connectTimeoutMs ?? 5_000
  const client = new Redis(
    clientOptions(url, {
      longLived: options.longLived ?? true,
      connectTimeoutMs,
      ...(options.connectionName === undefined ? {} : { connectionName: options.connectionName }),
    }),
  )
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
  create(options?: ConnectOptions): Promise<Redis>
  /** QUITs every connection this factory opened. */
  closeAll(): Promise<void>
}

export function createConnectionFactory(url: string, defaults: ConnectOptions = {}): ConnectionFactory {
  const open = new Set<Redis>()
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
export async function closeQuietly(client: Redis): Promise<void> {
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
