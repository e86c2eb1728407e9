import { describe, expect, it } from 'vitest'
import { checkOutbox } from '../../src/testing.js'
import { testRedisUrl } from '../support/namespace.js'
import { testPostgresUrl } from '../support/postgres.js'
import { publishAfterCommit } from './broken/publish-after-commit.js'

// The seed comes from FC_SEED when set (printed with every failure).
const seed = Number(process.env['FC_SEED'] ?? 7)

describe('checkOutbox, the outbox property', () => {
  it('passes a producer that writes its state and its events in one transaction, through writeOutbox', async () => {
    const report = await checkOutbox({ redisUrl: testRedisUrl(), postgresUrl: testPostgresUrl(), seed, runs: 40 })
    expect(report.failure, `seed ${seed}`).toBeNull()
    expect(report).toMatchObject({ passed: true, runs: 40, seed })
  })

  it('catches publish-after-commit (the dual write) with a short story: a committed transaction whose events never arrived', async () => {
    const report = await checkOutbox({ redisUrl: testRedisUrl(), postgresUrl: testPostgresUrl(), seed, runs: 100, producer: publishAfterCommit })
    expect(report.passed, `seed ${seed}`).toBe(false)
    expect(report.failure?.property).toBe('committed-once')
    expect(report.failure?.message).toMatch(/committed, yet its row 1 \(acc-a\) is in the stream 0 times/)
    // Shrunk: one transaction to one aggregate, committed, the producer dying right after COMMIT
    // (fast-check may leave a harmless relay step after it).
    expect(report.failure?.story[0]).toBe('tx 1: acc-a then COMMIT, producer crashes at its point #1')
    expect(report.failure?.story.length).toBeLessThanOrEqual(2)
    expect(report.failure?.path).not.toBe('')
  })
})
