import { describe, expect, it } from 'vitest'
import { builtinTargets } from '../../src/check/builtin/index.js'
import { checkConsumers } from '../../src/check/check.js'
import { formatFailures } from '../../src/testing.js'
import { testRedisUrl } from '../support/namespace.js'

const seed = Number(process.env['FC_SEED'] ?? 20261125)

describe('pipeline fuzz on the built-in pipeline', () => {
  // `pipeline fuzz` runs 100 per property; the suite runs fewer to stay quick next to other tests.
  it('every built-in consumer keeps every property', async () => {
    const report = await checkConsumers(builtinTargets(), { redisUrl: testRedisUrl(), seed, runs: 25 })
    expect(report.results).toHaveLength(9 * 5)
    expect(report.passed, formatFailures(report)).toBe(true)
    const score = report.results.find((r) => r.consumer === 'score' && r.property === 'ordering')
    expect(score?.note).toContain('dependsOnCrossKeyOrder')
  })
})
