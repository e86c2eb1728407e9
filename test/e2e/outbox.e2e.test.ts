import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeOutbox } from '../../src/outbox/index.js'
import { waitFor } from '../support/bus.js'
import { BIN, bareEnv, runCli } from '../support/cli.js'
import { testClient, testNamespace, testRedisUrl } from '../support/namespace.js'
import { testDatabase } from '../support/postgres.js'
import { loadContracts } from '../../src/events/index.js'

let project: string
const config = resolve('test/check/project/pipeline.config.ts')

beforeAll(() => {
  if (!existsSync(resolve('dist/commands/doctor.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does).')
  project = mkdtempSync(join(tmpdir(), 'eventspine-outbox-e2e-'))
})
afterAll(() => rmSync(project, { recursive: true, force: true }))

const pipeline = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(args, { cwd: project, env: bareEnv(project, env) })

describe('the outbox from the terminal', () => {
  it('doctor --outbox checks the database: reachable, its version, the outbox table and its backlog', async () => {
    const url = await testDatabase('doctor')
    const run = await pipeline(['doctor', '--json', '--outbox', url], { PIPELINE_REDIS_URL: testRedisUrl() })
    expect(run.code, run.stderr).toBe(0)
    const report = JSON.parse(run.stdout) as { postgres: { binDir: string | null }; outbox: Record<string, unknown> }
    expect(report.postgres.binDir).not.toBeNull()
    expect(report.outbox).toMatchObject({ url, reachable: true, migrated: false })
    expect(String(report.outbox['serverVersion'])).toMatch(/^\d+/)
  })

  it('doctor names an unreachable outbox database without printing its password, and exits 1', async () => {
    const run = await pipeline(['doctor', '--outbox', 'postgres://app:s3cret-pw@127.0.0.1:1/orders'], { PIPELINE_REDIS_URL: testRedisUrl() })
    expect(run.code).toBe(1)
    expect(run.stdout).toContain('E_POSTGRES_UNREACHABLE')
    expect(run.stdout).toContain('postgres://app:***@127.0.0.1:1/orders')
    expect(run.stdout + run.stderr).not.toContain('s3cret-pw')
  })

  it('fuzz --outbox checks the outbox property on a database and prints the seed', async () => {
    const url = await testDatabase('fuzz')
    const run = await pipeline(['fuzz', '--outbox', url, '--runs', '5', '--seed', '3'], { PIPELINE_REDIS_URL: testRedisUrl() })
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain('outbox property (writeOutbox in the transaction): 5 runs, seed 3')
    expect(run.stdout).toContain('ok  committed rows once, nothing rolled back, order per aggregate')
  })

  it('generate --reference-db seeds the reference schema from the day, and load --reference-db runs that day with 0 mismatches without its CSV', async () => {
    const url = await testDatabase('day')
    const day = join(project, 'day')
    const generated = await pipeline(['generate', '--events-per-day', '2000', '--date', '2026-11-24', '--out', day, '--reference-db', url])
    expect(generated.code, generated.stderr).toBe(0)
    expect(generated.stdout).toMatch(/reference {2}\d+ funds, \d+ identifiers written to postgres:\/\//)
    // The day's CSV tables gone: whatever enrich and resolve know now comes from Postgres.
    rmSync(join(day, 'reference'), { recursive: true })
    const load = await pipeline(['load', '--day', day, '--reference-db', url, '--assert', 'mismatches=0'], { PIPELINE_REDIS_URL: testRedisUrl() })
    expect(load.code, load.stdout + load.stderr).toBe(0)
    expect(load.stdout).toMatch(/mismatches {3}0/)
    expect(load.stdout).toMatch(/missing 0/)
  })

  it('--outbox that is neither managed nor a postgres URL is a usage error', async () => {
    const run = await pipeline(['up', '--outbox', 'mysql://db/x'], { PIPELINE_REDIS_URL: testRedisUrl() })
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/neither `managed` nor a postgres:\/\/ URL/)
  })

  it("up --outbox managed starts a throwaway cluster, relays a team's rows to its consumer, and stops it on Ctrl-C", async () => {
    const namespace = testNamespace('obup')
    const up = spawn(process.execPath, [BIN, 'up', '--port', '0', '--no-reload', '--config', config, '--outbox', 'managed'], {
      cwd: project,
      env: bareEnv(project, { PIPELINE_REDIS_URL: testRedisUrl(), PIPELINE_NAMESPACE: namespace }),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const out = { stdout: '', stderr: '' }
    up.stdout.on('data', (c: Buffer) => void (out.stdout += c.toString()))
    up.stderr.on('data', (c: Buffer) => void (out.stderr += c.toString()))
    const exited = new Promise<number | null>((done) => up.on('exit', (code) => done(code)))
    try {
      await waitFor(() => out.stdout.includes('outbox postgres://'), { what: 'the outbox line of the banner' })
      expect(out.stdout).toMatch(/outbox postgres:\/\/eventspine@127\.0\.0\.1:\d+\/postgres \(managed-started\)/)
      const record = JSON.parse(readFileSync(join(project, '.pipeline', 'postgres.json'), 'utf8')) as { url: string; dir: string }
      const db = new pg.Client({ connectionString: record.url })
      await db.connect()
      try {
        await waitFor(async () => (await db.query(`SELECT to_regclass('eventspine_outbox') IS NOT NULL AS ok`)).rows[0].ok, { what: 'the relay to migrate' })
        const contracts = loadContracts(join(import.meta.dirname, '..', 'check', 'contracts'))
        await db.query('BEGIN')
        await writeOutbox(db, { type: 'account.credited', key: 'acc-007', payload: { accountId: 'acc-007', amount: 42, currency: 'EUR' } }, { contracts })
        await db.query('COMMIT')
      } finally {
        await db.end()
      }
      const redis = testClient()
      await waitFor(async () => (await redis.hget(`{${namespace}}:state:ledger:account:acc-007`, 'balance')) === '42', { what: 'the ledger to apply the relayed row' })
      await waitFor(() => /outbox postgres:\/\/\S+: 0 waiting .* 1 relayed here/.test(out.stdout), { what: 'the outbox plain line' })
      up.kill('SIGINT')
      expect(await exited).toBe(0)
      expect(existsSync(join(project, '.pipeline', 'postgres.json'))).toBe(false)
      expect(existsSync(record.dir)).toBe(false)
      // The config's warnings only (nothing there emits account.credited: the outbox does).
      expect(out.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('warning: nothing in '))).toEqual([])
    } finally {
      if (up.exitCode === null) up.kill('SIGKILL')
    }
  })
})
