import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { inject, onTestFinished } from 'vitest'

/** The URL of the run's shared redis-server (started by globalSetup). */
export function testRedisUrl(): string {
  return inject('redisUrl')
}

/** The `redis+cluster://` URL of the run's 3-master Redis Cluster (started by globalSetup). */
export function testClusterUrl(): string {
  return inject('clusterUrl')
}

/** A namespace no other test uses; its keys are deleted when the test finishes. */
export function testNamespace(label = 't'): string {
  const namespace = `${label}-${randomBytes(5).toString('hex')}`
  onTestFinished(async () => {
    const redis = new Redis(testRedisUrl())
    try {
      // The namespace's own keys, and those of its partitions ({ns:p}) when it has more than one.
      for (const pattern of [`{${namespace}}:*`, `{${namespace}:*}:*`]) {
        let cursor = '0'
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
          cursor = next
          if (keys.length > 0) await redis.unlink(...keys)
        } while (cursor !== '0')
      }
    } finally {
      redis.disconnect()
    }
  })
  return namespace
}

/** A plain client for assertions; closed when the test finishes. */
export function testClient(): Redis {
  const redis = new Redis(testRedisUrl())
  onTestFinished(() => {
    redis.disconnect()
  })
  return redis
}
