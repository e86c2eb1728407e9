import { randomBytes } from 'node:crypto'
import { Cluster } from 'ioredis'
import { onTestFinished } from 'vitest'
import { createBus, permissiveContracts, type Bus, type BusOptions } from '../../src/bus/index.js'
import { parseConnectionUrl } from '../../src/redis/url.js'
import { scanAll, unlinkAll } from '../../src/redis/nodes.js'
import { keySlot, parseClusterNodes } from '../../src/redis/topology.js'
import { testClusterUrl } from './namespace.js'

/** A plain Cluster client on the run's cluster; closed when the test finishes. */
export function testClusterClient(): Cluster {
  const target = parseConnectionUrl(testClusterUrl())
  const client = new Cluster(target.kind === 'cluster' ? [...target.seeds] : [])
  onTestFinished(() => void client.disconnect())
  return client
}

/**
 * A namespace of its own on the run's cluster (deleted when the test finishes), and the
 * `redis://` URL of a master that does NOT own its slot: the case (`{a}` is slot 15495,
 * not on the node in the URL), so every test also proves the redirection works.
 */
export async function clusterNamespace(label = 'c'): Promise<{ namespace: string; farUrl: string }> {
  const namespace = `${label}-${randomBytes(5).toString('hex')}`
  const client = testClusterClient()
  onTestFinished(async () => {
    const cleaner = testClusterClient()
    await unlinkAll(cleaner, await scanAll(cleaner, { match: `{${namespace}*}:*` }))
  })
  const slot = keySlot(`{${namespace}}`)
  const nodes = parseClusterNodes(String(await client.call('CLUSTER', 'NODES')))
  const far = nodes.find((n) => n.role === 'master' && !n.slots.some(([first, last]) => slot >= first && slot <= last))
  if (far === undefined) throw new Error('the test cluster has no master without this slot')
  return { namespace, farUrl: `redis://${far.address}` }
}

/** A bus on the run's cluster (through the URL of a node that does not own its slot), closed after the test. */
export async function testClusterBus(options: Partial<BusOptions> = {}): Promise<Bus> {
  const { namespace, farUrl } = await clusterNamespace('bus')
  const warnings: string[] = []
  const bus = await createBus({ url: farUrl, namespace, warn: (m) => void warnings.push(m), contracts: permissiveContracts, ...options })
  onTestFinished(() => bus.close())
  return bus
}
