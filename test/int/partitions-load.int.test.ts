import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { partitionKeys } from '../../src/bus/keys.js'
import { EVENT } from '../../src/pipeline/index.js'
import { generateDay } from '../../src/sim/day.js'
import { runLoad } from '../../src/sim/drive-day.js'
import { describe as describeOutcome } from '../../src/sim/outcome.js'
import { writeDay } from '../../src/sim/store.js'
import { testNamespace, testRedisUrl } from '../support/namespace.js'

const dir = mkdtempSync(join(tmpdir(), 'sim-partitions-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Entries appended per partition to a stream of the fund pipeline, after the run (kept). */
async function receivedPerPartition(namespace: string, partitions: number): Promise<number[]> {
  const redis = new Redis(testRedisUrl())
  try {
    return await Promise.all(partitionKeys(namespace, partitions).map((keys) => redis.xlen(keys.stream(EVENT.received))))
  } finally {
    redis.disconnect()
  }
}

describe('pipeline load on 4 partitions', () => {
  it('a generated day (2000 events, seed 7) ends with 0 mismatches, its files spread over the partitions and none through the outbox', async () => {
    const day = writeDay(generateDay({ eventsPerDay: 2000, date: '2026-11-20', seed: 7, faults: 0.02 }), join(dir, 'day'))
    const namespace = testNamespace('load')
    const report = await runLoad({ url: testRedisUrl(), namespace, partitions: 4, day, speed: 'max', maxInFlight: 64, outDir: join(dir, 'out'), keep: true })
    expect(report.mismatchList.map((m) => `${m.file} [${m.faults.join()}]: ${describeOutcome(m.expected)} vs ${describeOutcome(m.actual)}`)).toEqual([])
    expect(report.mismatches).toBe(0)
    expect(report.outcomes.missing).toBe(0)
    expect(report.events).toBe(day.manifest.expectedEvents)
    const spread = await receivedPerPartition(namespace, 4)
    expect(spread.reduce((a, b) => a + b, 0)).toBe(day.manifest.files.length)
    expect(spread.filter((n) => n > 0).length).toBeGreaterThan(1)
    // A file stays in its partition: the fund pipeline wrote nothing to an outbox.
    const redis = new Redis(testRedisUrl())
    try {
      for (let p = 0; p < 4; p++) {
        // The relay made the outbox (its group) but nothing was ever appended to it.
        const key = `{${namespace}:${p}}:outbox`
        const info = (await redis.exists(key)) === 1 ? ((await redis.xinfo('STREAM', key)) as unknown[]) : ['entries-added', 0]
        expect(info[info.indexOf('entries-added') + 1]).toBe(0)
      }
    } finally {
      redis.disconnect()
    }
  })
})
