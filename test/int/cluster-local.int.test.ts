import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Cluster } from 'ioredis'
import { describe, expect, it, onTestFinished } from 'vitest'
import { startLocalCluster } from '../../src/redis/cluster.js'
import { CLUSTER_SLOTS, slotCoverage } from '../../src/redis/topology.js'
import { testClusterUrl } from '../support/namespace.js'

function seeds(url: string): { host: string; port: number }[] {
  return url.replace('redis+cluster://', '').split(',').map((hostPort) => ({ host: '127.0.0.1', port: Number(hostPort.split(':')[1]) }))
}

describe('a local Redis Cluster', () => {
  it('the run has one, every master a seed in its URL', () => {
    expect(testClusterUrl()).toMatch(/^redis\+cluster:\/\/127\.0\.0\.1:\d+(,127\.0\.0\.1:\d+){2}$/)
  })

  it('starts again from its folder with the same nodes, slots and data', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'eventspine-cluster-test-'))
    onTestFinished(() => rm(dir, { recursive: true, force: true }))
    const first = await startLocalCluster({ dir, masters: 3, lifetime: 'ours' })
    const before = await first.nodes()
    expect(before.filter((n) => n.role === 'master')).toHaveLength(3)
    expect(slotCoverage(before)).toEqual({ covered: CLUSTER_SLOTS, missing: [] })
    const client = new Cluster(seeds(first.url))
    await client.set('{a}:kept', 'yes') // slot 15495
    await client.quit()
    await first.stop()

    const again = await startLocalCluster({ dir, lifetime: 'ours' })
    onTestFinished(() => again.stop())
    expect(again.created).toBe(false)
    expect(again.url).toBe(first.url)
    expect((await again.nodes()).map((n) => [n.id, n.slots])).toEqual(before.map((n) => [n.id, n.slots]))
    const reader = new Cluster(seeds(again.url))
    onTestFinished(() => reader.disconnect())
    expect(await reader.get('{a}:kept')).toBe('yes')
  })

  it('kill -9 of a master with a replica: the replica takes over, the data stays, the node comes back as a replica', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'eventspine-cluster-test-'))
    onTestFinished(() => rm(dir, { recursive: true, force: true }))
    const cluster = await startLocalCluster({ dir, masters: 3, replicas: 1, appendfsync: 'always', nodeTimeoutMs: 2_000, lifetime: 'ours' })
    onTestFinished(() => cluster.stop())
    const client = new Cluster(seeds(cluster.url))
    onTestFinished(() => client.disconnect())
    await client.set('{a}:kept', 'yes')
    const owner = (await cluster.nodes()).find((n) => n.role === 'master' && n.slots.some(([first, last]) => first <= 15495 && 15495 <= last))
    const replica = (await cluster.nodes()).find((n) => n.masterId === owner?.id)
    expect(replica).toBeDefined()
    await cluster.killNode(owner?.port ?? 0)
    await cluster.waitUntilHealthy()
    expect((await cluster.nodes()).find((n) => n.port === replica?.port)?.role).toBe('master')
    expect(await client.get('{a}:kept')).toBe('yes')
    await cluster.startNode(owner?.port ?? 0)
    await cluster.waitUntilHealthy()
    expect((await cluster.nodes()).find((n) => n.port === owner?.port)).toMatchObject({ role: 'replica', masterId: replica?.id, failing: false })
  })
})
