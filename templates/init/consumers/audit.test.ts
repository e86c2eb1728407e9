import { fileURLToPath } from 'node:url'
import { checkConsumer, formatFailures, startThrowawayRedis, type ThrowawayRedis } from 'eventspine/testing'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { audit } from './audit.js'

const contractsDir = fileURLToPath(new URL('../contracts', import.meta.url))

// A redis-server of the test's own (redis-server on PATH, as for `pipeline up`), stopped after.
let redis: ThrowawayRedis | undefined
beforeAll(async () => {
  redis = await startThrowawayRedis()
})
afterAll(async () => {
  await redis?.stop()
})

it('audit keeps idempotency, ordering, replay, crash safety and poison isolation', { timeout: 120_000 }, async () => {
  const report = await checkConsumer(audit, { redisUrl: redis!.url, contractsDir, runs: 100 })
  expect(report.passed, formatFailures(report)).toBe(true)
})
