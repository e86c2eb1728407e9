import type { TestProject } from 'vitest/node'
import { startTestRedis, type TestRedis } from './redis-server.js'

let redis: TestRedis | undefined

/** One redis-server for the whole run; each test works in its own namespace. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  redis = await startTestRedis()
  project.provide('redisUrl', redis.url)
  return async () => {
    await redis?.stop()
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string
  }
}
