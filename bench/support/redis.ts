import { Redis } from 'ioredis'
import { startTestRedis, type TestRedis } from '../../test/support/redis-server.js'

export interface BenchRedis {
  readonly url: string
  readonly host: string
  readonly port: number
  /** Empties the server between contenders so none pays for another's leftovers. */
  flush(): Promise<void>
  stop(): Promise<void>
}

/**
 * A throwaway redis-server on a free loopback port, the same for all three contenders.
 * By default persistence is off (`--appendonly no`, no RDB saves): the figures are a ceiling
 * for the code paths, not for fsync. `aof: true` runs all three with AOF everysec instead.
 */
export async function startBenchRedis(options: { aof?: boolean } = {}): Promise<BenchRedis> {
  const server: TestRedis = await startTestRedis({
    appendfsync: 'everysec',
    // Later arguments override earlier ones, so this turns the helper's AOF off.
    extraArgs: options.aof ? [] : ['--appendonly', 'no'],
  })
  return {
    url: server.url,
    host: '127.0.0.1',
    port: server.port,
    async flush() {
      const redis = new Redis(server.url)
      try {
        await redis.flushall()
      } finally {
        redis.disconnect()
      }
    },
    stop: () => server.stop(),
  }
}
