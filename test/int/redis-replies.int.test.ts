import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hasCode, type EventspineError } from '../../src/errors.js'
import { replyError } from '../../src/redis/errors.js'
import { connect } from '../../src/redis/connect.js'
import { runDoctor } from '../../src/redis/doctor.js'
import { startTestRedis, type TestRedis } from '../support/redis-server.js'
import { testClient, testNamespace, testRedisUrl } from '../support/namespace.js'

/** What a real Redis answers to `call`, turned into our error (fails the test if it answers). */
async function refusal(call: () => Promise<unknown>): Promise<EventspineError> {
  const error = await call().then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(Error)
  expect((error as Error).name).toBe('ReplyError')
  const ours = replyError(error)
  expect(ours).toBeDefined()
  return ours as EventspineError
}

describe('error replies of Redis, as errors people can act on', () => {
  it('WRONGTYPE names the key and the namespace, and says to pick another one', async () => {
    const redis = testClient()
    const namespace = testNamespace('wrongtype')
    const key = `{${namespace}}:dlq:map`
    await redis.set(key, 'not a stream')
    const error = await refusal(() => redis.xlen(key))
    expect(hasCode(error, 'E_REDIS_WRONGTYPE')).toBe(true)
    expect(error.message).toContain(`key ${key} holds another Redis type`)
    expect(error.message).toContain('XLEN')
    expect(error.hint).toContain(`(${namespace})`)
    expect(error.hint).toContain('pick another --namespace')
    expect(error.userFixable).toBe(true)
  })

  it('WRONGTYPE inside a script is the same error, with the keys the script was given', async () => {
    const redis = testClient()
    const namespace = testNamespace('wrongtype')
    const key = `{${namespace}}:stream:x`
    await redis.set(key, 'not a stream')
    const error = await refusal(() => redis.eval("return redis.call('XLEN', KEYS[1])", 1, key))
    expect(hasCode(error, 'E_REDIS_WRONGTYPE')).toBe(true)
    expect(error.message).toContain(key)
    // The script's text is an argument, not a key: it is not shown.
    expect(error.message).not.toContain('redis.call')
  })

  it('any other reply names the command that failed, never its other arguments', async () => {
    const redis = testClient()
    const error = await refusal(() => redis.call('XADD', `{${testNamespace('reply')}}:stream:x`, 'not-an-id', 'password', 'hunter2'))
    expect(hasCode(error, 'E_REDIS_REPLY')).toBe(true)
    expect(error.message).toMatch(/^Redis refused XADD on \{reply-[0-9a-f]+\}:stream:x: ERR /)
    expect(JSON.stringify({ m: error.message, h: error.hint, d: error.details })).not.toContain('hunter2')
    expect(error.hint).toContain('report it')
  })

  it('NOPERM says which permission to grant', async () => {
    const admin = testClient()
    const user = `limited-${randomBytes(4).toString('hex')}`
    await admin.call('ACL', 'SETUSER', user, 'on', '>pw-of-limited', '~*', '+@connection', '+get', '+info')
    const limited = new Redis(testRedisUrl(), { username: user, password: 'pw-of-limited', maxRetriesPerRequest: 0 })
    try {
      const error = await refusal(() => limited.xlen(`{${testNamespace('noperm')}}:stream:x`))
      expect(hasCode(error, 'E_REDIS_NOPERM')).toBe(true)
      expect(error.hint).toContain('ACL SETUSER')
      expect(JSON.stringify({ m: error.message, h: error.hint, d: error.details })).not.toContain('pw-of-limited')
    } finally {
      limited.disconnect()
      await admin.call('ACL', 'DELUSER', user)
    }
  })

  it('is undefined for errors that are not Redis replies', () => {
    expect(replyError(new Error('WRONGTYPE lookalike'))).toBeUndefined()
    expect(replyError('WRONGTYPE')).toBeUndefined()
  })
})

describe('replies of a cluster that is not ready, or of a Redis that is full', () => {
  let cluster: TestRedis
  let full: TestRedis
  beforeAll(async () => {
    // A cluster node that serves no slot yet answers CLUSTERDOWN, as a real cluster answers MOVED.
    ;[cluster, full] = await Promise.all([
      startTestRedis({ extraArgs: ['--cluster-enabled', 'yes'] }),
      startTestRedis({ extraArgs: ['--maxmemory', '1', '--maxmemory-policy', 'noeviction'] }),
    ])
  })
  afterAll(async () => {
    await Promise.all([cluster?.stop(), full?.stop()])
  })

  it('a cluster that serves no slots: says to look at it with doctor', async () => {
    const redis = new Redis(cluster.url, { maxRetriesPerRequest: 0 })
    try {
      const error = await refusal(() => redis.xadd('{ns}:stream:x', '*', 'a', '1'))
      expect(hasCode(error, 'E_REDIS_CLUSTER')).toBe(true)
      expect(error.hint).toContain('run `pipeline doctor` to see its nodes and slot coverage')
    } finally {
      redis.disconnect()
    }
  })

  it('connecting to a node of a cluster that serves no slots: not ready, not unreachable', async () => {
    const error = await connect(cluster.url, { longLived: false }).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(hasCode(error, 'E_REDIS_CLUSTER')).toBe(true)
    expect((error as Error).message).toBe(`The Redis Cluster of ${cluster.url} is not ready: its node says cluster_state:fail.`)
  })

  it('doctor on that node shows the cluster and the slots nobody serves', async () => {
    const report = await runDoctor({ url: cluster.url, env: {} })
    expect(report.ok).toBe(false)
    expect(report.redis.cluster).toMatchObject({ state: 'fail', slots: { covered: 0, total: 16384, missing: '0-16383' } })
    expect(report.problems.map((p) => p.code)).toContain('E_REDIS_CLUSTER')
  })

  it('maxmemory reached: says to raise it or free space', async () => {
    const redis = new Redis(full.url, { maxRetriesPerRequest: 0 })
    try {
      const error = await refusal(() => redis.xadd('{ns}:stream:x', '*', 'a', '1'))
      expect(hasCode(error, 'E_REDIS_OOM')).toBe(true)
      expect(error.hint).toContain('maxmemory')
    } finally {
      redis.disconnect()
    }
  })
})
