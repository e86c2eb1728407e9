import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testRedisUrl } from '../support/namespace.js'
import { freePort, startTestRedis, type TestRedis } from '../support/redis-server.js'
import { bareEnv, runCli, type CliRun as Run } from '../support/cli.js'

// The built CLI as a user runs it (`npm test` builds first).
let project: string


async function pipeline(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return runCli(args, { cwd: project, env: bareEnv(project, env) })
}

beforeAll(() => {
  if (!existsSync(resolve('dist/commands/doctor.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does).')
  project = mkdtempSync(join(tmpdir(), 'eventspine-doctor-'))
})
afterAll(() => {
  rmSync(project, { recursive: true, force: true })
})

describe('pipeline doctor', () => {
  it('--help describes the command and its flags', async () => {
    const run = await pipeline(['doctor', '--help'])
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('--redis-url')
    expect(run.stdout).toContain('--json')
  })

  it('--json reports a healthy Redis from PIPELINE_REDIS_URL and exits 0', async () => {
    const run = await pipeline(['doctor', '--json'], { PIPELINE_REDIS_URL: testRedisUrl() })
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const report = JSON.parse(run.stdout) as Record<string, any>
    expect(report['ok']).toBe(true)
    expect(report['node'].ok).toBe(true)
    expect(report['redisServer'].found).toBe(true)
    expect(report['redis']).toMatchObject({ source: 'env', url: testRedisUrl(), reachable: true, maxmemoryPolicy: 'noeviction', appendonly: true })
    expect(report['redis'].version).toMatch(/^\d+\./)
    expect(report['problems']).toEqual([])
  })

  it('prints a readable report', async () => {
    const run = await pipeline(['doctor'], { REDIS_URL: testRedisUrl() })
    expect(run.code).toBe(0)
    expect(run.stdout).toContain(`Redis (env): ${testRedisUrl()}`)
    expect(run.stdout).toContain('maxmemory-policy noeviction')
  })

  it('an unreachable URL is a blocking problem (exit 1) and the password never shows', async () => {
    const port = await freePort()
    const run = await pipeline(['doctor', '--json', '--redis-url', `redis://app:s3cret-pw@127.0.0.1:${port}`])
    expect(run.code).toBe(1)
    expect(run.stdout + run.stderr).not.toContain('s3cret-pw')
    const report = JSON.parse(run.stdout) as { ok: boolean; redis: { url: string }; problems: Array<{ code: string }> }
    expect(report.ok).toBe(false)
    expect(report.redis.url).toBe(`redis://app:***@127.0.0.1:${port}`)
    expect(report.problems.map((p) => p.code)).toContain('E_REDIS_UNREACHABLE')
  })

  it('with nothing running it says what would happen, and starts nothing', async () => {
    const run = await pipeline(['doctor', '--json'])
    expect(run.code).toBe(0)
    expect(JSON.parse(run.stdout).redis.source).toBe('managed-start')
    expect(existsSync(join(project, '.pipeline'))).toBe(false)
  })

  it('without redis-server on PATH it says how to install it (exit 1)', async () => {
    const emptyBin = join(project, 'empty-bin')
    mkdirSync(emptyBin, { recursive: true })
    const run = await pipeline(['doctor'], { PATH: emptyBin })
    expect(run.code).toBe(1)
    expect(run.stdout).toContain('E_REDIS_BINARY_MISSING')
    expect(run.stdout).toContain('sudo apt-get install redis-server')
  })

  describe('against a Redis that may evict', () => {
    let evicting: TestRedis
    beforeAll(async () => {
      evicting = await startTestRedis()
      const admin = new Redis(evicting.url)
      await admin.config('SET', 'maxmemory-policy', 'allkeys-lru')
      await admin.config('SET', 'appendonly', 'no')
      admin.disconnect()
    })
    afterAll(async () => {
      await evicting.stop()
    })

    it('flags the eviction policy as blocking with the command that fixes it, and AOF off as a warning', async () => {
      const run = await pipeline(['doctor', '--json', '--redis-url', evicting.url])
      expect(run.code).toBe(1)
      const report = JSON.parse(run.stdout) as { problems: Array<{ code: string; blocking: boolean; fix: string }> }
      const eviction = report.problems.find((p) => p.code === 'E_REDIS_EVICTION_POLICY')
      expect(eviction?.blocking).toBe(true)
      expect(eviction?.fix).toContain('redis-cli CONFIG SET maxmemory-policy noeviction')
      expect(report.problems.find((p) => p.code === 'W_REDIS_AOF_OFF')?.blocking).toBe(false)
    })
  })
})
