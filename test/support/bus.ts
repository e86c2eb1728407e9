import { setTimeout as sleep } from 'node:timers/promises'
import { onTestFinished } from 'vitest'
import { createBus, permissiveContracts, type Bus, type BusOptions } from '../../src/bus/index.js'
import { testNamespace, testRedisUrl } from './namespace.js'

/** A bus on the run's redis-server in a namespace of its own, closed after the test. */
export async function testBus(options: Partial<BusOptions> = {}): Promise<Bus> {
  const warnings: string[] = []
  const bus = await createBus({
    url: testRedisUrl(),
    namespace: testNamespace('bus'),
    warn: (m) => void warnings.push(m),
    // The runtime's own tests use made-up event types; pipeline tests pass the real registry.
    contracts: permissiveContracts,
    ...options,
  })
  onTestFinished(() => bus.close())
  return bus
}

/**
 * Polls until `check` returns a truthy value (or throws after `timeoutMs`). The default is a
 * hang detector, not a speed target: on a loaded 2-core machine a CLI start alone takes seconds.
 */
export async function waitFor<T>(check: () => Promise<T> | T, { timeoutMs = 120_000, what = 'condition' } = {}): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value) return value as NonNullable<T>
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(20)
  }
}

/** Every event of a type in a bus's stream, decoded minimal: [entryId, fields record]. */
export async function streamEntries(bus: Bus, type: string): Promise<Record<string, string>[]> {
  const entries = (await bus.redis.xrange(bus.keys.stream(type), '-', '+')) as [string, string[]][]
  return entries.map(([, fields]) => {
    const out: Record<string, string> = {}
    for (let i = 0; i + 1 < fields.length; i += 2) out[fields[i] as string] = fields[i + 1] as string
    return out
  })
}
