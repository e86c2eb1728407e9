import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { consumerStatus } from '../../src/bus/index.js'
import { defaultContractsDir, loadContracts } from '../../src/events/index.js'
import { EVENT, pipelineConsumers, receivedEvent, STAGE } from '../../src/pipeline/index.js'
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
  if (!existsSync(resolve('dist/commands/dlq/replay.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does).')
  project = mkdtempSync(join(tmpdir(), 'eventspine-dlq-'))
})
afterAll(() => rmSync(project, { recursive: true, force: true }))

describe('pipeline dlq and replay, from the terminal', () => {
  it('deliver cannot write (a plain error) and dead-letters; fixed, `dlq replay --all` delivers once', async () => {
    const bus = await testBus({ contracts: loadContracts(defaultContractsDir()) })
    const common = ['--redis-url', testRedisUrl(), '--namespace', bus.namespace]
    // An output folder whose name is too long for the file system: every write fails with a plain
    // error (ENAMETOOLONG). A folder that is missing, full or a file instead is transient: deliver
    // retries it and pauses behind its breaker, never dead-letters it (test/int/breaker-deliver).
    const blocked = join(project, 'x'.repeat(300))
    const consumers = pipelineConsumers({ outDir: join(blocked, 'out'), clock: () => new Date('2026-11-25T18:00:00Z') })
    const runners = bus.run(consumers, { blockMs: 100, retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 } })
    const file = readFileSync(join(packageRoot(), 'fixtures', 'inbox', 'northwind-nav-2026-11-24.csv'))
    await bus.publish(receivedEvent('northwind-nav-2026-11-24.csv', file, { receivedAt: new Date('2026-11-25T07:30:00Z') }))
    await waitFor(async () => (await bus.redis.xlen(bus.keys.deadLetters(STAGE.deliver))) === 1 && (await consumerStatus(bus, consumers)).every((s) => s.lag === 0 && s.pending === 0), { what: 'a dead letter' })
    await runners.stop()

    const list = await pipeline(['dlq', 'list', '--json', ...common])
    expect(list.code).toBe(0)
    const [summary] = (JSON.parse(list.stdout) as { consumers: { consumer: string; count: number; entries: { id: string }[]; topErrors: { error: string }[] }[] }).consumers
    expect(summary).toMatchObject({ consumer: STAGE.deliver, count: 1 })
    expect(summary?.topErrors[0]?.error).toMatch(/ENAMETOOLONG/)
    const id = summary?.entries[0]?.id as string

    const show = await pipeline(['dlq', 'show', id, ...common])
    expect(show.code).toBe(0)
    expect(show.stdout).toContain(`Dead letter ${id}`)
    expect(show.stdout).toMatch(/after 3 attempts/)

    const out = join(project, 'out')
    const replay = await pipeline(['dlq', 'replay', '--all', '--out-dir', out, '--json', ...common])
    expect(replay.code).toBe(0)
    expect(JSON.parse(replay.stdout)).toMatchObject({ delivered: 1, failed: 0 })
    const written = readdirSync(out, { recursive: true }).filter((f) => String(f).endsWith('.json'))
    expect(written).toHaveLength(1)
    expect(await bus.redis.xlen(bus.keys.stream(EVENT.delivered))).toBe(1)
    expect((await pipeline(['dlq', 'list', ...common])).stdout).toContain('No dead letters.')

    // Purge is refused without --yes when nobody can be asked.
    const purge = await pipeline(['dlq', 'purge', ...common])
    expect(purge.code).toBe(1)
    expect(purge.stderr).toContain('--yes')

  })

  it('replay: a projection rebuilt from the terminal equals live; a window is required; --dry-run only counts', async () => {
    const bus = await testBus({ contracts: loadContracts(defaultContractsDir()) })
    const common = ['--redis-url', testRedisUrl(), '--namespace', bus.namespace]
    const consumers = pipelineConsumers({ outDir: join(project, 'out2'), clock: () => new Date('2026-11-25T18:00:00Z') })
    const runners = bus.run(consumers, { blockMs: 100 })
    const file = readFileSync(join(packageRoot(), 'fixtures', 'inbox', 'northwind-nav-2026-11-24.csv'))
    await bus.publish(receivedEvent('northwind-nav-2026-11-24.csv', file, { receivedAt: new Date('2026-11-25T07:30:00Z') }))
    await waitFor(async () => (await bus.redis.xlen(bus.keys.stream(EVENT.delivered))) === 1 && (await consumerStatus(bus, consumers)).every((s) => s.lag === 0 && s.pending === 0), { what: 'delivered' })
    await runners.stop()
    const before = await bus.redis.hgetall(bus.keys.state(STAGE.navLatest, 'nav-latest'))
    const rebuild = await pipeline(['replay', '--consumer', STAGE.navLatest, '--rebuild', '--json', ...common])
    expect(rebuild.code).toBe(0)
    expect(JSON.parse(rebuild.stdout)).toMatchObject({ consumer: STAGE.navLatest, rebuild: true, applied: 1, failed: 0 })
    expect(await bus.redis.hgetall(bus.keys.state(STAGE.navLatest, 'nav-latest'))).toEqual(before)

    const noWindow = await pipeline(['replay', '--consumer', STAGE.score, ...common])
    expect(noWindow.code).toBe(1)
    expect(noWindow.stderr).toContain('--since 24h')
    const dry = await pipeline(['replay', '--consumer', STAGE.score, '--since', '1h', '--dry-run', ...common])
    expect(dry.code).toBe(0)
    expect(dry.stdout).toContain('1 events in the window')
  })
})
