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
})
