import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it, onTestFinished } from 'vitest'
import { createBus } from '../../src/bus/index.js'
import { builtinSource, listingHost } from '../../src/pipeline/source.js'
import { dayStartMs, LAST_MS_OF_DAY } from '../../src/sim/calendar.js'
import { generateDay } from '../../src/sim/day.js'
import { runLoad } from '../../src/sim/drive-day.js'
import { writeDay } from '../../src/sim/store.js'
import { waitForLeases, WorkerPool, type WorkerProcess } from '../../src/sim/workers.js'
import { clusterNamespace } from '../support/cluster.js'
import { expectNothingLost } from '../support/day.js'

const dir = mkdtempSync(join(tmpdir(), 'cluster-worker-kill-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const PARTITIONS = 4

describe('kill -9 of a worker on a Redis Cluster', () => {
  it('the other instances take its partitions, pending entries included, after the visibility timeout: 0 mismatches', async () => {
    // No content faults: with P > 1 score compares a NAV with the last one its partition saw (the
    // fund pipeline keys a file by provider, so per provider). This test is about losing nothing
    // and applying nothing twice.
    const day = writeDay(generateDay({ eventsPerDay: 1500, date: '2026-11-20', seed: 17, faults: 0 }), join(dir, 'day'))
    const { namespace, farUrl } = await clusterNamespace('wkill')
    const stages = builtinSource().consumers(listingHost()).map((c) => c.name)
    // The partition count is stored before any worker opens the namespace.
    const bus = await createBus({ url: farUrl, namespace, partitions: PARTITIONS, warn: () => {} })
    onTestFinished(() => bus.close())
    mkdirSync(join(dir, 'logs'))
    const pool = new WorkerPool({
      url: farUrl,
      namespace,
      outDir: join(dir, 'out'),
      referenceDir: day.referenceDir,
      clock: new Date(dayStartMs(day.manifest.date) + LAST_MS_OF_DAY),
      visibilityTimeoutMs: 3_000,
      logDir: join(dir, 'logs'),
      batchSize: 100,
    })
    onTestFinished(() => pool.stopAll())
    // Two processes, each running every stage: each stage has two instances sharing its partitions.
    await pool.startAll([stages, stages])
    await waitForLeases(bus, stages)
    let victim: WorkerProcess | undefined
    let heldByVictim = 0
    const report = await runLoad({
      url: farUrl,
      namespace,
      day,
      speed: 'max',
      maxInFlight: 64,
      outDir: join(dir, 'out'),
      stages: 'external',
      idleTimeoutMs: 60_000,
      beforePublish: async (next, total) => {
        if (victim === undefined && next >= total / 3) {
          victim = pool.all()[0] as WorkerProcess
          heldByVictim = await leasesHeldBy(victim.child.pid as number)
          await pool.kill(victim)
        }
        return 32
      },
      inspect: () => pool.stopAll(),
    })
    expect(victim).toBeDefined()
    // It owned partitions when it died (a lease names its instance's process).
    expect(heldByVictim).toBeGreaterThan(0)
    expectNothingLost(report)
    expect(pool.unexpectedExits).toEqual([])

    async function leasesHeldBy(pid: number): Promise<number> {
      const values = await Promise.all(bus.partitions.flatMap((keys) => stages.map((stage) => bus.redis.get(keys.lease(stage)))))
      return values.filter((v) => v?.includes(`:${pid}:`)).length
    }
  })
})
