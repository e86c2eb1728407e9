import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from '../support/bus.js'
import { BIN, bareEnv, runCli } from '../support/cli.js'
import { startTestRedis, type TestRedis } from '../support/redis-server.js'

// A Redis of this file's own: the namespaces counted here are only the ones these runs make.
let server: TestRedis
let redis: Redis
let project: string

beforeAll(async () => {
  if (!existsSync(resolve('dist/commands/clean.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does).')
  project = mkdtempSync(join(tmpdir(), 'eventspine-leftovers-'))
  server = await startTestRedis()
  redis = new Redis(server.url)
})
afterAll(async () => {
  redis?.disconnect()
  await server?.stop()
  rmSync(project, { recursive: true, force: true })
})

async function keysMatching(pattern: string): Promise<string[]> {
  const out: string[] = []
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
    cursor = next
    out.push(...keys)
  } while (cursor !== '0')
  return out.sort()
}

/** Starts a command, waits until its keys are in Redis, sends Ctrl-C; resolves with its exit. */
async function interrupt(args: string[], pattern: string): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args, '--redis-url', server.url], { cwd: project, env: bareEnv(project) })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()))
  child.stdout.resume()
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)))
  await waitFor(async () => (await keysMatching(pattern)).length > 0, { what: `keys ${pattern}` })
  child.kill('SIGINT')
  return { code: await exited, stderr }
}

describe('interrupted runs leave nothing behind', () => {
  it('Ctrl-C of pipeline load deletes its namespace and exits 130', async () => {
    const run = await interrupt(['load', '--events-per-day', '300', '--speed', '10x', '--seed', '3'], '{load-*')
    expect(run.stderr).toContain('SIGINT: stopping the run and deleting its namespace')
    expect(run.stderr).toContain('Interrupted: the run was stopped and its namespace deleted.')
    expect(run.code).toBe(130)
    expect(await keysMatching('{load-*')).toEqual([])
  })

  it('Ctrl-C of pipeline fuzz deletes its namespaces and exits 130', async () => {
    const run = await interrupt(['fuzz', '--consumer', 'deliver', '--runs', '5000', '--seed', '1'], '{check-*')
    expect(run.stderr).toContain('SIGINT: stopping the check and deleting its namespaces')
    expect(run.code).toBe(130)
    expect(await keysMatching('{check-*')).toEqual([])
  })

  it('pipeline clean lists what a crash left, removes it with --yes, and never touches other namespaces', async () => {
    await redis.set('{load-7-mi3k2x1a}:stream:pipeline.file.received', 'x')
    await redis.set('{load-7-mi3k2x1a}:inbox:map', 'x')
    await redis.set('{check-0a1b2c3d-12}:state:deliver:x', 'x')
    await redis.set('{check-0a1b2c3d-13}:lease:deliver', 'x', 'PX', 120_000) // a run still working
    const yours = ['{pipeline}:stream:pipeline.file.received', '{load-test}:stream:x', '{check-mine}:x', '{load-7}:x']
    for (const key of yours) await redis.set(key, 'x')
    // In the default namespace: a consumer last seen ten minutes ago, and one seen just now.
    const [seconds] = await redis.time()
    const nowMs = Number(seconds) * 1000
    await redis.hset('{pipeline}:consumers', 'old-audit', JSON.stringify({ subscribes: ['pipeline.file.delivered'], emits: [] }), 'fresh-audit', JSON.stringify({ subscribes: ['pipeline.file.delivered'], emits: [] }))
    await redis.hset('{pipeline}:consumers:seen', 'old-audit', String(nowMs - 600_000), 'fresh-audit', String(nowMs))

    const list = await runCli(['clean', '--redis-url', server.url], { cwd: project, env: bareEnv(project) })
    expect(list.code).toBe(0)
    expect(list.stdout).toContain('Namespaces left by load and fuzz runs (3):')
    expect(list.stdout).toMatch(/load-7-mi3k2x1a +2 keys\n/)
    expect(list.stdout).toMatch(/check-0a1b2c3d-13 +1 keys {2}in use/)
    expect(list.stdout).toMatch(/Consumers whose instances are gone \(1\):\n {2}old-audit +last seen \d{4}-\d\d-\d\dT/)
    expect(list.stdout).toContain('Nothing removed: run `pipeline clean --yes` to remove them.')
    expect(await redis.exists('{load-7-mi3k2x1a}:inbox:map')).toBe(1)

    const removed = await runCli(['clean', '--yes', '--json', '--redis-url', server.url], { cwd: project, env: bareEnv(project) })
    expect(removed.code).toBe(0)
    expect(JSON.parse(removed.stdout)).toMatchObject({ removed: true, deletedKeys: 3, namespaces: [{ namespace: 'check-0a1b2c3d-12' }, { namespace: 'check-0a1b2c3d-13', live: true }, { namespace: 'load-7-mi3k2x1a', keys: 2 }] })
    expect(JSON.parse(removed.stdout)).toMatchObject({ goneConsumers: [{ consumer: 'old-audit' }] })
    expect(await keysMatching('*')).toEqual([...yours, '{check-0a1b2c3d-13}:lease:deliver', '{pipeline}:consumers', '{pipeline}:consumers:seen'].sort())
    expect(Object.keys(await redis.hgetall('{pipeline}:consumers'))).toEqual(['fresh-audit'])
    expect(Object.keys(await redis.hgetall('{pipeline}:consumers:seen'))).toEqual(['fresh-audit'])
  })
})
