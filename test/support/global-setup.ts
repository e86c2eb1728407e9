import type { TestProject } from 'vitest/node'
import { startThrowawayPostgres, type ThrowawayPostgres } from '../../src/postgres/server.js'
import { startTestRedis, type TestRedis } from './redis-server.js'

let redis: TestRedis | undefined
let postgres: ThrowawayPostgres | undefined

/**
 * One redis-server for the whole run; each test works in its own namespace. One throwaway
 * Postgres cluster too (the outbox tests), each test in its own database; fsync off, since
 * nothing here outlives a machine crash.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  ;[redis, postgres] = await Promise.all([startTestRedis(), startThrowawayPostgres({ fsync: false })])
  project.provide('redisUrl', redis.url)
  project.provide('postgresUrl', postgres.url)
  return async () => {
    await Promise.all([redis?.stop(), postgres?.stop()])
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string
    postgresUrl: string
  }
}
