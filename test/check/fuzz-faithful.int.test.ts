import fc from 'fast-check'
import { Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { withScripts } from '../../src/bus/scripts.js'
import { DEFAULT_RETRY } from '../../src/bus/retry.js'
import { contractInputs, finalise } from '../../src/check/inputs.js'
import { runOnce, type Harness } from '../../src/check/run.js'
import { CrashBeforeCommit, Publish, Reclaim } from '../../src/check/schedule.js'
import { defaultContractsDir, loadContracts } from '../../src/events/index.js'
import { testBus, waitFor } from '../support/bus.js'
import { testNamespace, testRedisUrl } from '../support/namespace.js'
import { closeCounterClients, counterOutsideCommit } from './broken/counter-outside-commit.js'
import { ledger } from './good-ledger.js'

// The harness's driver stands in for the Runner: these tests hold it to what the real runtime
// loop does with the same events (state through ctx, and a crash before commit then takeover).
const registry = loadContracts([defaultContractsDir(), 'test/check/contracts'])
const seed = Number(process.env['FC_SEED'] ?? 11)
const fast = { blockMs: 20, visibilityTimeoutMs: 300, retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 } }

function harness(make: Harness['make']): { h: Harness; close: () => void } {
  const redis = withScripts(new Redis(testRedisUrl()))
  const ns = testNamespace('drv')
  let n = 0
  return { h: { name: 'x', make, redis, registry, retry: DEFAULT_RETRY, tmpRoot: '/tmp', redisUrl: testRedisUrl(), namespace: () => `${ns}-${n++}` }, close: () => redis.disconnect() }
}

async function stateOf(bus: Awaited<ReturnType<typeof testBus>>, consumer: string): Promise<Record<string, unknown>> {
  const prefix = bus.keys.statePrefix(consumer)
  const out: Record<string, unknown> = {}
  for (const key of (await bus.redis.keys(`${prefix.replace(/[{}]/g, (c) => `\\${c}`)}*`)).sort()) {
    const type = await bus.redis.type(key)
    out[key.slice(prefix.length)] = type === 'hash' ? await bus.redis.hgetall(key) : Number(await bus.redis.get(key))
  }
  return out
}

describe('the check driver does what the real runner does', () => {
  it('the same events reach the same state through bus.run and through the driver', async () => {
    const samples = fc.sample(contractInputs(registry).events(ledger), { numRuns: 5, seed })
    for (const drafts of samples) {
      const events = finalise(drafts, registry)
      const bus = await testBus({ contracts: registry })
      await bus.publish(events)
      const runners = bus.run([ledger], fast)
      await waitFor(async () => Number(await bus.redis.zcard(bus.keys.inbox('ledger'))) === events.length, { what: 'every event committed' })
      await runners.stop()
      const { h, close } = harness(() => ledger)
      const run = await runOnce(h, events, { mode: 'waves' })
      const live = await stateOf(bus, 'ledger')
      const normalised = Object.fromEntries(Object.entries(run.obs.state).map(([k, v]) => [k, Object.fromEntries(Object.entries(v as object).map(([f, x]) => [f, String(x)]))]))
      expect(normalised).toEqual(live)
      await run.dispose()
      close()
    }
  })

  it('a crash before commit then a takeover double-counts the outside-commit counter in both', async () => {
    const events = finalise([{ type: 'account.credited', key: 'k1', correlationId: 'corr-1', payload: { accountId: 'acc-001', amount: 5, currency: 'EUR' } }], registry)
    const bus = await testBus({ contracts: registry })
    const env = { tmpDir: '/tmp', namespace: bus.namespace, redisUrl: testRedisUrl() }
    await bus.publish(events)
    const first = bus.run([counterOutsideCommit(env)], { ...fast, beforeCommit: (runner) => runner.kill() })
    await waitFor(async () => Number((await bus.redis.get(bus.keys.state('credit-counter', 'count:k1'))) ?? 0) >= 1, { what: 'the handler ran once' })
    await first.runners[0]?.done
    const second = bus.run([counterOutsideCommit(env)], fast)
    await waitFor(async () => Number(await bus.redis.zcard(bus.keys.inbox('credit-counter'))) === 1, { what: 'the takeover committed' })
    await second.stop()
    const live = await stateOf(bus, 'credit-counter')

    const { h, close } = harness(counterOutsideCommit)
    const trace: string[] = []
    const run = await runOnce(h, events, { mode: 'sequential', trace, commands: [new Publish(), new CrashBeforeCommit(), new Reclaim()] })
    expect(run.obs.state).toEqual({ 'count:k1': 2, totals: { k1: 5 } })
    expect(live).toEqual({ 'count:k1': 2, totals: { k1: '5' } })
    expect(trace.join('\n')).toContain('crash before commit')
    await run.dispose()
    close()
    closeCounterClients()
  })
})
