import { inspect } from 'node:util'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hasCode } from '../../src/errors.js'
import { closeQuietly, connect, createConnectionFactory } from '../../src/redis/connect.js'
import { isCluster, masters } from '../../src/redis/nodes.js'
import { sanitizeRedisError } from '../../src/redis/errors.js'
import { versionAtLeast } from '../../src/redis/doctor.js'
import { inspectRedis, parseInfo } from '../../src/redis/inspect.js'
import { redactDeep } from '../../src/redis/redact.js'
import { resolveRedis } from '../../src/redis/resolve.js'
import { clientOptions, parseRedisUrl } from '../../src/redis/url.js'
import { freePort, startTestRedis, type TestRedis } from '../support/redis-server.js'
import { testRedisUrl } from '../support/namespace.js'

const SECRET = 's3cret-pw'

/** Everything a user could ever see of an error: message, stack, inspect, JSON. */
function everything(error: unknown): string {
  const e = error as Error
  return [e.message, e.stack, inspect(error, { depth: 5 }), JSON.stringify(redactDeep(error)), JSON.stringify(error)].join('\n')
}

describe('connect and resolve a given URL', () => {
  it('uses the flag, then PIPELINE_REDIS_URL, then REDIS_URL', async () => {
    const url = testRedisUrl()
    expect((await resolveRedis({ url, env: {} })).source).toBe('flag')
    expect((await resolveRedis({ env: { PIPELINE_REDIS_URL: url, REDIS_URL: 'redis://127.0.0.1:1' } })).url).toBe(url)
    const fromEnv = await resolveRedis({ env: { REDIS_URL: url } })
    expect(fromEnv.source).toBe('env')
    // oclif fills --redis-url from PIPELINE_REDIS_URL: that still counts as env.
    expect((await resolveRedis({ url, env: { PIPELINE_REDIS_URL: url } })).source).toBe('env')
  })

  it('a closed port fails fast with E_REDIS_UNREACHABLE and what to try', async () => {
    const port = await freePort()
    const error = await resolveRedis({ url: `redis://user:${SECRET}@127.0.0.1:${port}/0`, connectTimeoutMs: 500 }).catch((e: unknown) => e)
    expect(hasCode(error, 'E_REDIS_UNREACHABLE')).toBe(true)
    expect((error as Error).message).toContain(`redis://user:***@127.0.0.1:${port}/0`)
    expect((error as { hint: string }).hint).toContain('redis-cli')
    expect(everything(error)).not.toContain(SECRET)
  })

  it('a malformed URL is E_REDIS_URL_INVALID, redacted', async () => {
    const error = await resolveRedis({ url: `http://u:${SECRET}@h`, env: {} }).catch((e: unknown) => e)
    expect(hasCode(error, 'E_REDIS_URL_INVALID')).toBe(true)
    expect(everything(error)).not.toContain(SECRET)
  })

  it('creates several ready connections and closes them all', async () => {
    const factory = createConnectionFactory(testRedisUrl(), { connectionName: 'eventspine-test' })
    const [a, b] = await Promise.all([factory.create(), factory.create()])
    expect(await a.ping()).toBe('PONG')
    expect(await b.client('GETNAME')).toBe('eventspine-test')
    expect(a.options.enableAutoPipelining).toBe(false)
    expect(isCluster(a) ? null : a.options.maxRetriesPerRequest).toBeNull()
    await factory.closeAll()
    expect([a.status, b.status]).toEqual(['end', 'end'])
  })

  it('inspects version, eviction policy, AOF and memory', async () => {
    const client = await connect(testRedisUrl(), { longLived: false })
    try {
      const info = await inspectRedis(masters(client)[0] as Redis)
      expect(info.version).toMatch(/^\d+\.\d+/)
      expect(info.appendonly).toBe(true)
      expect(info.appendfsync).toBe('everysec')
      expect(info.maxmemoryPolicy).toBeTypeOf('string')
      expect(info.usedMemoryBytes).toBeGreaterThan(0)
    } finally {
      await closeQuietly(client)
    }
  })
})

describe('credentials never leak', () => {
  let secured: TestRedis
  beforeAll(async () => {
    // Password set after start: the harness's readiness probe does not AUTH.
    secured = await startTestRedis()
    const admin = new Redis(secured.url)
    await admin.config('SET', 'requirepass', SECRET)
    admin.disconnect()
  })
  afterAll(async () => {
    await secured.stop()
  })

  it('a wrong password is E_REDIS_AUTH without the password', async () => {
    const url = `redis://default:wrong-${SECRET}@127.0.0.1:${secured.port}`
    const error = await connect(url, { connectTimeoutMs: 1_000 }).catch((e: unknown) => e)
    expect(hasCode(error, 'E_REDIS_AUTH')).toBe(true)
    expect(everything(error)).not.toContain(SECRET)
  })

  it('a missing password is E_REDIS_AUTH', async () => {
    const error = await connect(`redis://127.0.0.1:${secured.port}`, { connectTimeoutMs: 1_000 }).catch((e: unknown) => e)
    expect(hasCode(error, 'E_REDIS_AUTH')).toBe(true)
  })

  it('the right password works, and a later ioredis AUTH error is sanitised', async () => {
    const resolved = await resolveRedis({ url: `redis://default:${SECRET}@127.0.0.1:${secured.port}`, env: {} })
    expect(resolved.displayUrl).not.toContain(SECRET)
    const client = await connect(resolved.url)
    try {
      expect(await client.ping()).toBe('PONG')
      const raw = await client.auth('default', `other-${SECRET}`).catch((e: unknown) => e)
      // ioredis puts AUTH arguments on the error; we mask them before anything shows it.
      expect(JSON.stringify(raw)).toContain(SECRET)
      expect(everything(sanitizeRedisError(raw))).not.toContain(SECRET)
    } finally {
      await closeQuietly(client)
    }
  })
})

describe('URL parsing', () => {
  it('accepts rediss:// with user, password and db, and turns on TLS', () => {
    const options = parseRedisUrl('rediss://alice:p%40ss@cache.example.com:6380/2')
    expect(options).toEqual({
      host: 'cache.example.com',
      port: 6380,
      db: 2,
      username: 'alice',
      password: 'p@ss',
      tls: { servername: 'cache.example.com' },
    })
    const client = clientOptions('rediss://cache.example.com', { longLived: true, connectTimeoutMs: 1_000 })
    expect(client.tls).toEqual({ servername: 'cache.example.com' })
    expect(client.port).toBe(6379)
    expect(client.enableAutoPipelining).toBe(false)
  })

  it('takes a bare user-info as the password, and no TLS for redis://', () => {
    expect(parseRedisUrl('redis://pw@h')).toEqual({ host: 'h', port: 6379, db: 0, password: 'pw' })
    expect(parseRedisUrl('redis://[::1]:7000')).toEqual({ host: '::1', port: 7000, db: 0 })
  })
})

describe('small parsers', () => {
  it('reads INFO key:value lines and skips section headers', () => {
    expect(parseInfo('# Server\r\nredis_version:7.0.15\r\n\r\n# Memory\r\nmaxmemory_policy:noeviction\r\n')).toEqual({
      redis_version: '7.0.15',
      maxmemory_policy: 'noeviction',
    })
  })

  it('compares Node versions numerically', () => {
    expect(versionAtLeast('20.19.0', '20.19.0')).toBe(true)
    expect(versionAtLeast('20.20.2', '20.19.0')).toBe(true)
    expect(versionAtLeast('22.1.0', '20.19.0')).toBe(true)
    expect(versionAtLeast('20.9.0', '20.19.0')).toBe(false)
    expect(versionAtLeast('18.20.4', '20.19.0')).toBe(false)
  })
})
