import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createBus, partitionKeys, permissiveContracts, type Bus } from '../../src/bus/index.js'
import { hasCode } from '../../src/errors.js'
import { startLocalCluster, type LocalCluster } from '../../src/redis/cluster.js'
import { isPidAlive } from '../../src/redis/process.js'
import { keySlot, servesSlot } from '../../src/redis/topology.js'
import { generateDay } from '../../src/sim/day.js'
import { runLoad } from '../../src/sim/drive-day.js'
import { writeDay } from '../../src/sim/store.js'
import { waitFor } from '../support/bus.js'
import { expectNothingLost } from '../support/day.js'

// A 6-node cluster of its own (3 masters, a replica each, appendfsync always): this file kills
// its masters. Replication is asynchronous, so a master acknowledges a write before its replica
// has it; kill -9 of the master then loses the write in the failover, unless publish waited.
let cluster: LocalCluster
let dir: string
const PARTITIONS = 4

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'eventspine-failover-'))
  cluster = await startLocalCluster({ dir, masters: 3, replicas: 1, appendfsync: 'always', nodeTimeoutMs: 2_000, lifetime: 'ours' })
})
afterAll(async () => {
  await cluster?.stop()
  rmSync(dir, { recursive: true, force: true })
})

/** The master that serves the namespace's slot and its replica, as the cluster sees them now. */
async function shardOf(namespace: string): Promise<{ master: number; replica: number }> {
  const slot = keySlot(`{${namespace}}`)
  const nodes = (await cluster.nodes()).filter((n) => !n.failing)
  const master = nodes.find((n) => n.role === 'master' && servesSlot(n, slot))
  const replica = nodes.find((n) => n.role === 'replica' && n.masterId === master?.id)
  if (master === undefined || replica === undefined) throw new Error(`slot ${slot} has no master with a live replica`)
  return { master: master.port, replica: replica.port }
}

/** Brings a killed node back (it rejoins as the replica of whoever took its slots) and waits for a healthy cluster. */
async function heal(port: number): Promise<void> {
  await cluster.startNode(port)
  await cluster.waitUntilHealthy(120_000)
}

async function openBus(namespace: string): Promise<Bus> {
  return createBus({ url: cluster.url, namespace, contracts: permissiveContracts, warn: () => {} })
}

/** kill -9 of a node, returned once its process is gone (the cluster's health check skips dead nodes only). */
async function killNode(port: number): Promise<void> {
  const pid = cluster.pidOf(port)
  cluster.killNode(port)
  await waitFor(() => pid === undefined || !isPidAlive(pid), { what: `node ${port} gone` })
}

describe('durability of publish on a failover', () => {
  it('a publish the producer saw acknowledged survives kill -9 of its master, even when the replica lags behind', async () => {
    const namespace = `failover-${process.pid}`
    const bus = await openBus(namespace)
    try {
      const { master, replica } = await shardOf(namespace)
      const replicaPid = cluster.pidOf(replica) as number
      // The replica stops reading: what the master sends it piles up in the kernel's socket
      // buffers (tens of MB on loopback), then in the master's own output buffer, which kill -9 loses.
      process.kill(replicaPid, 'SIGSTOP')
      const acknowledged: string[] = []
      let refused: unknown
      try {
        const big = 'x'.repeat(20_000)
        for (let batch = 0; batch < 32 && refused === undefined; batch++) {
          const events = Array.from({ length: 100 }, (_, i) => ({ type: 'num.added', key: `k${i % 7}`, payload: { n: batch * 100 + i, big } }))
          await bus.publish(events).then((published) => acknowledged.push(...published.map((p) => p.id)), (error: unknown) => void (refused = error))
        }
      } finally {
        await killNode(master)
        process.kill(replicaPid, 'SIGCONT')
      }
      await cluster.waitUntilHealthy(120_000)
      const stream = bus.keys.stream('num.added')
      const present = new Set<string>()
      for (let from = '-'; ; ) {
        const page = await bus.redis.xrange(stream, from, '+', 'COUNT', 500)
        for (const [, fields] of page) present.add(fields[fields.indexOf('id') + 1] as string)
        if (page.length < 500) break
        from = `(${(page.at(-1) as [string, string[]])[0]}`
      }
      // Nothing acknowledged is lost: publish waited for a replica, and told the producer when none took the write.
      expect(acknowledged.filter((id) => !present.has(id)).length, `${acknowledged.length} acknowledged`).toBe(0)
      expect(hasCode(refused, 'E_PUBLISH_NOT_REPLICATED'), String(refused)).toBe(true)
      await heal(master)
      // Publish is idempotent by id: the producer re-sends what was refused, and it goes through now.
      // (The healed node resyncs 64 MB first: until it confirms, the publish is refused again.)
      let again: unknown[] = []
      await waitFor(async () => (again = await bus.publish([{ type: 'num.added', key: 'k1', payload: { n: -1 } }]).catch(() => [])).length === 1, { what: 'a publish confirmed by the healed replica' })
      expect(again).toHaveLength(1)
    } finally {
      await bus.redis.del(bus.keys.stream('num.added')).catch(() => undefined)
      await bus.close()
    }
  })
})

describe('kill -9 of a master during a load', () => {
  it('its replica takes over, the runtime follows it, and the day has 0 mismatches: nothing acknowledged is lost', async () => {
    // No content faults: see cluster-faults-worker.int.test.ts.
    const day = writeDay(generateDay({ eventsPerDay: 1500, date: '2026-11-20', seed: 29, faults: 0 }), join(dir, 'day'))
    const namespace = `masterkill-${process.pid}`
    const slots = partitionKeys(namespace, PARTITIONS).map((keys) => keySlot(keys.prefix))
    let killed: { port: number; partitions: number } | undefined
    const report = await runLoad({
      url: cluster.url,
      namespace,
      partitions: PARTITIONS,
      day,
      speed: 'max',
      maxInFlight: 32,
      outDir: join(dir, 'out'),
      idleTimeoutMs: 60_000,
      beforePublish: async (next, total) => {
        if (killed === undefined && next >= total / 3) {
          // The master serving the most of the namespace's partitions, in the middle of the traffic.
          const masters = (await cluster.nodes()).filter((n) => n.role === 'master' && !n.failing)
          const served = masters.map((m) => ({ port: m.port, partitions: slots.filter((slot) => servesSlot(m, slot)).length }))
          killed = served.sort((a, b) => b.partitions - a.partitions)[0]
          await killNode((killed as { port: number }).port)
        }
        return 16
      },
    })
    expect(killed?.partitions).toBeGreaterThan(0)
    expectNothingLost(report)
    expect(report.files).toBe(day.manifest.files.length)
  })
})

