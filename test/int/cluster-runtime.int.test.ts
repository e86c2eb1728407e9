import { describe, expect, it } from 'vitest'
import { createBus, permissiveContracts } from '../../src/bus/index.js'
import { hasCode } from '../../src/errors.js'
import { closeQuietly, connect } from '../../src/redis/connect.js'
import { replyError } from '../../src/redis/errors.js'
import { isCluster, masters, pipelinePerSlot, scanAll } from '../../src/redis/nodes.js'
import { clusterNamespace, testClusterBus, testClusterClient } from '../support/cluster.js'
import { streamEntries, waitFor } from '../support/bus.js'
import { testClusterUrl } from '../support/namespace.js'
import { doubler } from '../support/consumers.js'

const fast = { blockMs: 100, visibilityTimeoutMs: 1_000, retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 50 } }

describe('the runtime on a Redis Cluster', () => {
  it('a redis+cluster:// URL, or a plain URL of any node, gives a Cluster client', async () => {
    const { farUrl } = await clusterNamespace()
    for (const url of [testClusterUrl(), farUrl]) {
      const client = await connect(url, { longLived: false })
      try {
        expect(isCluster(client)).toBe(true)
        expect(masters(client)).toHaveLength(3)
      } finally {
        await closeQuietly(client)
      }
    }
  })

  it('runs a chain in a namespace whose slot is not on the node in the URL', async () => {
    const bus = await testClusterBus()
    expect(isCluster(bus.redis)).toBe(true)
    const runners = bus.run([doubler], fast)
    const published = await bus.publish([1, 2, 3].map((n) => ({ type: 'num.added', key: `k${n % 2}`, payload: { n } })))
    await waitFor(async () => (await streamEntries(bus, 'num.doubled')).length === 3, { what: 'three num.doubled' })
    expect((await streamEntries(bus, 'num.doubled')).map((e) => JSON.parse(e.payload as string))).toEqual([{ n: 2 }, { n: 4 }, { n: 6 }])
    expect(await bus.redis.hgetall(bus.keys.state('double', 'totals'))).toEqual({ k0: '2', k1: '4' })
    await runners.stop()
    expect(await bus.redis.hget(bus.keys.stats('double'), 'handled')).toBe('3')
    const index = await bus.redis.lrange(bus.keys.correlation(published[0]?.correlationId as string), 0, -1)
    expect(index.map((r) => r.split(' ')[0])).toEqual(['num.added', 'num.doubled'])
  })

  it('finds a namespace\'s keys with SCAN on whichever master holds them', async () => {
    const bus = await testClusterBus()
    await bus.publish({ type: 'num.added', key: 'a', payload: { n: 1 } })
    const keys = await scanAll(bus.redis, { match: `{${bus.namespace}}:*` })
    expect(keys).toContain(bus.keys.stream('num.added'))
  })

  it('a pipeline over keys of several slots goes out one slot at a time, replies in order', async () => {
    const client = testClusterClient()
    const { namespace } = await clusterNamespace()
    const keys = ['a', 'b', 'c', 'd'].map((tag) => `{${namespace}-${tag}}:k`)
    await pipelinePerSlot(client, keys, (k) => k, (p, k) => p.set(k, k.toUpperCase()))
    const replies = await pipelinePerSlot(client, keys, (k) => k, (p, k) => p.get(k))
    expect(replies).toEqual(keys.map((k) => [null, k.toUpperCase()]))
  })

  it('a CROSSSLOT is reported as a bug in a key layout', async () => {
    const client = testClusterClient()
    const { namespace } = await clusterNamespace()
    const error = replyError(await client.mset(`{${namespace}-a}:k`, '1', `{${namespace}-b}:k`, '2').catch((e: unknown) => e))
    expect(error !== undefined && hasCode(error, 'E_REDIS_CROSSSLOT')).toBe(true)
    expect(error?.hint).toContain('bug in eventspine\'s key layout')
  })

  it('opens a namespace with partitions on the cluster (their tags spread over the masters)', async () => {
    const { namespace, farUrl } = await clusterNamespace()
    const bus = await createBus({ url: farUrl, namespace, partitions: 4, contracts: permissiveContracts, warn: () => {} })
    try {
      expect(bus.partitionCount).toBe(4)
      await bus.publish([0, 1, 2, 3, 4, 5, 6, 7].map((n) => ({ type: 'num.added', key: `k${n}`, payload: { n } })))
      const lengths = await Promise.all(bus.partitions.map((keys) => bus.redis.xlen(keys.stream('num.added'))))
      expect(lengths.reduce((a, b) => a + b, 0)).toBe(8)
    } finally {
      await bus.close()
    }
  })
})
