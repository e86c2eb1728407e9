import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { consumerStatus } from '../../src/bus/index.js'
import { defaultContractsDir, loadContracts } from '../../src/events/index.js'
import { EVENT, NAV_LATEST_HASH, pipelineConsumers, receivedEvent, STAGE } from '../../src/pipeline/index.js'
import { packageRoot } from '../../src/pipeline/paths.js'
import { testBus, waitFor } from '../support/bus.js'
import { testRedisUrl } from '../support/namespace.js'
import { bareEnv, runCli } from '../support/cli.js'

// The built CLI as a user runs it (`npm test` builds first).
let project: string

function pipeline(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCli(args, { cwd: project, env: bareEnv(project) })
}

beforeAll(() => {
  if (!existsSync(resolve('dist/commands/reconcile.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does).')
  project = mkdtempSync(join(tmpdir(), 'eventspine-reconcile-'))
})
afterAll(() => rmSync(project, { recursive: true, force: true }))

describe('pipeline reconcile and an online rebuild, from the terminal', () => {
  it('exits 0 when everything adds up, 1 with the list when not; replay --rebuild runs beside the live consumer', async () => {
    const bus = await testBus({ contracts: loadContracts(defaultContractsDir()) })
    const common = ['--redis-url', testRedisUrl(), '--namespace', bus.namespace]
    const consumers = pipelineConsumers({ outDir: join(project, 'out'), clock: () => new Date('2026-11-25T18:00:00Z') })
    const runners = bus.run(consumers, { blockMs: 100 })
    const file = readFileSync(join(packageRoot(), 'fixtures', 'inbox', 'northwind-nav-2026-11-24.csv'))
    await bus.publish(receivedEvent('northwind-nav-2026-11-24.csv', file, { receivedAt: new Date('2026-11-25T07:30:00Z') }))
    await waitFor(async () => (await bus.redis.xlen(bus.keys.stream(EVENT.delivered))) === 1 && (await consumerStatus(bus, consumers)).every((s) => s.lag === 0 && s.pending === 0), { what: 'delivered' })

    const ok = await pipeline(['reconcile', '--since', '1h', '--state', STAGE.navLatest, '--money', ...common])
    expect(ok.code).toBe(0)
    expect(ok.stdout).toMatch(/northwind \/ nav +1 +1 +0 +0/)
    expect(ok.stdout).toContain('Everything adds up.')

    // While nav-latest runs: rebuilt online, proved, swapped.
    const rebuild = await pipeline(['replay', '--consumer', STAGE.navLatest, '--rebuild', '--json', ...common])
    expect(rebuild.code).toBe(0)
    expect(JSON.parse(rebuild.stdout)).toMatchObject({ rebuild: true, online: { proof: { equal: true, swapped: true } } })
    await runners.stop()

    // A NAV no delivered document says: reconcile names it and exits 1 (--json keeps the list).
    const key = bus.keys.state(STAGE.navLatest, NAV_LATEST_HASH)
    const [isin, raw] = Object.entries(await bus.redis.hgetall(key))[0] as [string, string]
    await bus.redis.hset(key, isin, JSON.stringify({ ...JSON.parse(raw), nav: 1 }))
    const bad = await pipeline(['reconcile', '--money', '--json', ...common])
    expect(bad.code).toBe(1)
    const report = JSON.parse(bad.stdout) as { unexplained: string[] }
    expect(report.unexplained).toHaveLength(1)
    expect(report.unexplained[0]).toContain(`${isin} 1 (document`)

    const usage = await pipeline(['reconcile', '--state', 'nav-latest:no-such', ...common])
    expect(usage.code).toBe(2)
    const cancel = await pipeline(['replay', '--consumer', STAGE.navLatest, '--cancel', ...common])
    expect(cancel).toMatchObject({ code: 0, stdout: expect.stringContaining('nothing to cancel') })
  })
})
