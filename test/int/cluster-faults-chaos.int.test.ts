import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it, onTestFinished } from 'vitest'
import { createBus, permissiveContracts } from '../../src/bus/index.js'
import { builtinSource, listingHost } from '../../src/pipeline/source.js'
import { checkAppliedOnce, checkDeadLetters, checkOutputs, type Violation } from '../../src/sim/chaos/checks.js'
import { injectPoison, type PoisonEntry } from '../../src/sim/chaos/poison.js'
import { generateDay } from '../../src/sim/day.js'
import { runLoad } from '../../src/sim/drive-day.js'
import { writeDay } from '../../src/sim/store.js'
import { EVENT } from '../../src/pipeline/types.js'
import { waitFor } from '../support/bus.js'
import { clusterNamespace } from '../support/cluster.js'

const dir = mkdtempSync(join(tmpdir(), 'cluster-chaos-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

// The chaos tier's checks on the run's shared cluster. `load --chaos` owns its Redis (it pauses,
// restarts and kills it) and refuses --redis-url; what a shared cluster allows is its poison and
// its final checks (dead letters exactly the poison, nothing applied twice, one document per
// delivered file). The worker and master faults are in cluster-faults-load.int.test.ts and cluster-faults-failover.int.test.ts.
describe('the chaos checks on a Redis Cluster', () => {
  it('poison injected mid-load is dead-lettered by every stage reading it, nothing else is, and the day has 0 mismatches', async () => {
    const day = writeDay(generateDay({ eventsPerDay: 800, date: '2026-11-20', seed: 13, faults: 0.1 }), join(dir, 'day'))
    const { namespace, farUrl } = await clusterNamespace('chaos')
    const consumers = builtinSource().consumers(listingHost())
    // The poison goes in through a bus of the test's own on the same namespace, as a broken producer would.
    const producer = await createBus({ url: farUrl, namespace, contracts: permissiveContracts, warn: () => {} })
    onTestFinished(() => producer.close())
    let poison: PoisonEntry[] = []
    const violations: Violation[] = []
    let deadLetters = 0
    const report = await runLoad({
      url: farUrl,
      namespace,
      day,
      speed: 'max',
      maxInFlight: 32,
      outDir: join(dir, 'out'),
      runner: { retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 50 } },
      beforePublish: async (next, total) => {
        if (poison.length === 0 && next >= total / 2) poison = await injectPoison(producer, 6, [EVENT.received, EVENT.mapped, EVENT.validated])
        return 16
      },
      inspect: async (runBus, loaded) => {
        // Each poison entry is dead-lettered once its retries are spent: wait for all of them.
        const expected = poison.reduce((n, p) => n + consumers.filter((c) => c.subscribes.includes(p.type)).length, 0)
        await waitFor(async () => (await checkDeadLetters(runBus, consumers, poison)).count >= expected, { what: `${expected} dead letters` })
        const dead = await checkDeadLetters(runBus, consumers, poison)
        deadLetters = dead.count
        violations.push(...dead.violations, ...(await checkAppliedOnce(runBus, loaded.correlationIds)))
      },
    })
    violations.push(...(await checkOutputs(join(dir, 'out'), report.outcomes.delivered)))
    expect(report.mismatchList).toEqual([])
    expect(report.mismatches).toBe(0)
    expect(report.outcomes.missing).toBe(0)
    expect(poison).toHaveLength(6)
    expect(violations).toEqual([])
    expect(deadLetters).toBeGreaterThanOrEqual(poison.length)
  })
})
