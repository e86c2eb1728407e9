import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { leaseHolder } from '../../src/bus/lease.js'
import { openWorker } from '../../src/pipeline/host/session.js'
import { waitFor } from '../support/bus.js'
import { testNamespace, testRedisUrl } from '../support/namespace.js'

const dir = mkdtempSync(join(tmpdir(), 'partitions-worker-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('pipeline worker --stage validate, three times, on 4 partitions', () => {
  it("spreads validate's partitions over the three (from the leases), and the partition count comes from the namespace", async () => {
    const namespace = testNamespace('workers')
    const open = (partitions?: number) =>
      openWorker({ redisUrl: testRedisUrl(), namespace, projectDir: dir, stages: ['validate'], ...(partitions === undefined ? {} : { partitions }), runner: { visibilityTimeoutMs: 2_000, blockMs: 100 } })
    // The first stores the count; the others take it from the namespace, as a worker started without --partitions does.
    const workers = [await open(4), await open(), await open()]
    try {
      expect(workers.map((w) => w.pipeline.bus.partitionCount)).toEqual([4, 4, 4])
      const names = workers.map((w) => w.pipeline.runners()[0]!.instance)
      const bus = workers[0]!.pipeline.bus
      await waitFor(async () => {
        const holders = await Promise.all(bus.partitions.map(async (k) => leaseHolder((await bus.redis.get(k.lease('validate'))) ?? '')))
        return holders.every((h) => names.includes(h)) && new Set(holders).size === 3
      }, { what: 'three owners of the four partitions' })
    } finally {
      await Promise.all(workers.map((w) => w.pipeline.stop()))
      await Promise.all(workers.map((w) => w.redis.release()))
    }
  })
})
