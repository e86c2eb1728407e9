import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'
import { startLocalCluster, type LocalCluster } from '../../src/redis/cluster.js'
import { startThrowawayPostgres, type ThrowawayPostgres } from '../../src/postgres/server.js'
import { startTestRedis, type TestRedis } from './redis-server.js'

let redis: TestRedis | undefined
let postgres: ThrowawayPostgres | undefined
let cluster: LocalCluster | undefined

/**
 * One redis-server for the whole run; each test works in its own namespace. One throwaway
 * Postgres cluster too (the outbox tests), each test in its own database; fsync off, since
 * nothing here outlives a machine crash. And one 3-master Redis Cluster (no replicas: the
 * fault tests start their own), for the tests of the runtime on a cluster.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const clusterDir = await mkdtemp(join(tmpdir(), 'eventspine-cluster-'))
  ;[redis, postgres, cluster] = await Promise.all([
    startTestRedis(),
    startThrowawayPostgres({ fsync: false }),
    startLocalCluster({ dir: clusterDir, masters: 3, lifetime: 'ours' }),
  ])
  project.provide('redisUrl', redis.url)
  project.provide('postgresUrl', postgres.url)
  project.provide('clusterUrl', cluster.url)
  return async () => {
    await Promise.all([redis?.stop(), postgres?.stop(), cluster?.stop()])
    await rm(clusterDir, { recursive: true, force: true })
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string
    postgresUrl: string
    /** `redis+cluster://...` of the run's 3-master cluster. */
    clusterUrl: string
  }
}
