import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createBus, defineConsumer, GONE_AFTER_MS, registeredConsumers, removeGoneConsumers, type Bus } from '../../src/bus/index.js'
import { waitFor } from '../support/bus.js'
import { bareEnv, runCli } from '../support/cli.js'
import { startTestRedis, type TestRedis } from '../support/redis-server.js'

const NAMESPACE = 'e2e-status-gone'
let server: TestRedis
let bus: Bus
let project: string

const auditor = defineConsumer({ name: 'auditor', subscribes: ['pipeline.file.validated'], emits: ['audit.noted'], handle() {} })

const status = (args: string[] = []) =>
  runCli(['status', '--namespace', NAMESPACE, '--redis-url', server.url, ...args], { cwd: project, env: bareEnv(project) })

beforeAll(async () => {
  project = mkdtempSync(join(tmpdir(), 'eventspine-status-e2e-'))
  server = await startTestRedis()
  bus = await createBus({ url: server.url, namespace: NAMESPACE, warn: () => {} })
})

afterAll(async () => {
  await bus?.close()
  await server?.stop()
  rmSync(project, { recursive: true, force: true })
})

describe('pipeline status and consumers whose process is gone', () => {
  it('names a consumer not seen for over a minute; once removed (as pipeline clean does) it is gone from Redis and status', async () => {
    const runners = bus.run([auditor], { blockMs: 100 })
    await waitFor(async () => (await registeredConsumers(bus)).length === 1, { what: 'auditor registered' })
    await runners.stop()
    const live = await status()
    expect(live.code).toBe(0)
    expect(live.stdout).not.toContain('Gone consumers')

    // Its last heartbeat, moved two minutes back: what Redis holds after the process died then.
    const [s] = await bus.redis.time()
    await bus.redis.hset(bus.keys.consumersSeen, 'auditor', String(Number(s) * 1000 - GONE_AFTER_MS * 2))
    const gone = await status()
    expect(gone.code).toBe(0)
    expect(gone.stdout).toContain('Gone consumers: registered, but no instance seen for over 60 s (trace no longer waits for them; `pipeline clean` removes them)')
    expect(gone.stdout).toMatch(/\n {2}auditor {2}last seen \d{4}-\d\d-\d\dT/)
    const json = JSON.parse((await status(['--json'])).stdout) as { consumers: { name: string; gone: boolean }[]; goneAfterMs: number }
    expect(json).toMatchObject({ consumers: [{ name: 'auditor', gone: true }], goneAfterMs: GONE_AFTER_MS })
    // The legend under the table says what the figures count.
    expect(gone.stdout).toContain('DEAD: entries in the dead-letter streams now')

    expect(await removeGoneConsumers(bus)).toEqual(['auditor'])
    expect(await bus.redis.exists(bus.keys.consumers, bus.keys.consumersSeen)).toBe(0)
    expect((await status()).stdout).not.toContain('auditor')
  })
})
