import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createBus, permissiveContracts, type Bus, type Runners } from '../../src/bus/index.js'
import { EVENT, pipelineConsumers, receivedEvent } from '../../src/pipeline/index.js'
import { readTrace } from '../../src/pipeline/inspect/index.js'
import { waitFor } from '../support/bus.js'
import { startTestRedis, type TestRedis } from '../support/redis-server.js'
import { bareEnv, BIN, runCli, type CliRun as Run } from '../support/cli.js'

// The built CLI as a user runs it, against a Redis with a password: it must never show up.
const PASSWORD = 'tr4ce-s3cret-pw'
const GOOD = resolve('fixtures/inbox/northwind-nav-2026-11-24.csv')
const BAD = resolve('fixtures/faulty/northwind-nav-bad-isin.csv')
const NAMESPACE = 'e2e-trace'

let server: TestRedis
let bus: Bus
let runners: Runners
let project: string
const ids: Record<string, string> = {}


function pipeline(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return runCli(args, { cwd: project, env: bareEnv(project, { PIPELINE_NAMESPACE: NAMESPACE, ...env }) })
}

beforeAll(async () => {
  if (!existsSync(resolve('dist/commands/trace.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does).')
  project = mkdtempSync(join(tmpdir(), 'eventspine-trace-e2e-'))
  server = await startTestRedis({ extraArgs: ['--requirepass', PASSWORD] })
  bus = await createBus({ url: server.url, namespace: NAMESPACE, warn: () => {} })
  runners = bus.run(pipelineConsumers({ outDir: join(project, 'out') }), { blockMs: 100 })
  for (const [name, path] of [['good', GOOD], ['bad', BAD]] as const) {
    const [published] = await bus.publish(receivedEvent(path.split('/').pop() as string, readFileSync(path)))
    ids[name] = published?.correlationId as string
    await waitFor(async () => (await readTrace(bus, ids[name] as string))?.status === 'complete', { what: `${name} file done` })
  }
})

afterAll(async () => {
  await runners?.stop()
  await bus?.close()
  await server?.stop()
  rmSync(project, { recursive: true, force: true })
})

describe('pipeline trace', () => {
  it('prints the journey of a delivered file by correlation id, without colour in a pipe, and no password', async () => {
    const run = await pipeline(['trace', ids['good'] as string, '--redis-url', server.url])
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.stdout).toContain(`northwind-nav-2026-11-24.csv · correlation ${ids['good']}`)
    expect(run.stdout).toContain('delivered (pipeline.file.delivered) · 8 events, 0 dead letters')
    expect(run.stdout).toMatch(/└─ pipeline\.file\.delivered {2}deliver {2}\d\d:\d\d:\d\d\.\d{3} {2}\+\d+ ms/)
    expect(run.stdout).not.toContain('\u001b[')
    expect(run.stdout + run.stderr).not.toContain(PASSWORD)
  })

  it('finds a rejected file by its path; --json prints the same data', async () => {
    const run = await pipeline(['trace', BAD, '--json'], { PIPELINE_REDIS_URL: server.url })
    expect(run.code).toBe(0)
    const trace = JSON.parse(run.stdout) as { correlationId: string; status: string; outcome: string; events: number; roots: unknown[] }
    expect(trace).toMatchObject({ correlationId: ids['bad'], status: 'complete', outcome: EVENT.rejected, events: 4 })
    expect(run.stdout + run.stderr).not.toContain(PASSWORD)
  })

  it('shows why a file was rejected: rule, row, column and value, in the tree and in --json', async () => {
    const run = await pipeline(['trace', ids['bad'] as string, '--redis-url', server.url])
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/└─ pipeline\.file\.rejected {2}validate .*reasons=1/)
    expect(run.stdout).toMatch(/ {9}✗ isin[\w-]*: row \d+, column \w+, value "[^"]+" · /)
    const json = await pipeline(['trace', ids['bad'] as string, '--json', '--redis-url', server.url])
    type Node = { type: string; reasons: unknown[]; children: Node[] }
    const all = (nodes: Node[]): Node[] => nodes.flatMap((n) => [n, ...all(n.children)])
    const rejected = all((JSON.parse(json.stdout) as { roots: Node[] }).roots).find((n) => n.type === EVENT.rejected)
    expect(rejected?.reasons).toEqual([{ rule: expect.stringMatching(/^isin/), message: expect.any(String), row: expect.any(Number), column: expect.any(String), value: expect.any(String) }])
  })

  it('takes the short id tail shows (the end of the id); an ambiguous start lists the candidates, exit 1, nothing written', async () => {
    const short = (ids['good'] as string).slice(-8)
    const run = await pipeline(['trace', short, '--redis-url', server.url])
    expect(run.code).toBe(0)
    expect(run.stdout).toContain(`correlation ${ids['good']}`)

    const amb = await createBus({ url: server.url, namespace: 'e2e-trace-amb', warn: () => {}, contracts: permissiveContracts })
    const a = '0193eeee-0000-7000-8000-0000000000a1'
    const b = '0193eeee-0000-7000-8000-0000000000b2'
    await amb.publish([a, b].map((c) => ({ type: 'test.happened', key: c, correlationId: c as never, payload: { fileName: `${c}.csv` } })))
    const keysBefore = (await amb.redis.keys('{e2e-trace-amb}:*')).sort()
    const ambiguous = await pipeline(['trace', '0193eeee', '--namespace', 'e2e-trace-amb', '--redis-url', server.url])
    expect(ambiguous.code).toBe(1)
    expect(ambiguous.stderr).toContain(`"0193eeee" matches 2 correlation ids in namespace "e2e-trace-amb":\n  ${a}\n  ${b}`)
    expect(ambiguous.stderr).toContain('Give more characters of the id')
    const json = await pipeline(['trace', '0193eeee', '--json', '--namespace', 'e2e-trace-amb', '--redis-url', server.url])
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: 'E_TRACE_AMBIGUOUS' } })
    expect((await pipeline(['trace', 'b2', '--namespace', 'e2e-trace-amb', '--redis-url', server.url])).stdout).toContain(`correlation ${b}`)
    expect((await amb.redis.keys('{e2e-trace-amb}:*')).sort()).toEqual(keysBefore)
    await amb.close()
  })

  it('--follow on a finished file prints it once and exits', async () => {
    const run = await pipeline(['trace', ids['good'] as string, '--follow'], { PIPELINE_REDIS_URL: server.url })
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('delivered (pipeline.file.delivered)')
  })

  it('--follow on a file nobody handles shows what it waits for; Ctrl-C exits cleanly (0)', async () => {
    const idle = await createBus({ url: server.url, namespace: 'e2e-trace-idle', warn: () => {} })
    const [published] = await idle.publish(receivedEvent('idle.csv', readFileSync(GOOD)))
    await idle.close()
    const child = spawn(process.execPath, [BIN, 'trace', published?.correlationId as string, '--follow', '--namespace', 'e2e-trace-idle', '--redis-url', server.url], {
      cwd: project,
      env: { PATH: process.env['PATH'] ?? '', HOME: project },
    })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => void (out += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => void (out += chunk.toString()))
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)))
    await waitFor(() => out.includes('waiting for pipeline.file.ingested'), { what: 'the first trace' })
    child.kill('SIGINT')
    expect(await exited).toBe(0)
    expect(out).toContain('(ingest: queued)')
    expect(out).not.toContain(PASSWORD)
  })

  it('an unknown id: a clear message and exit code 1', async () => {
    const run = await pipeline(['trace', '0193ffff-0000-7000-8000-000000000000', '--redis-url', server.url])
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('No events for correlation id "0193ffff-0000-7000-8000-000000000000" in namespace "e2e-trace"')
    expect(run.stdout + run.stderr).not.toContain(PASSWORD)
    const json = await pipeline(['trace', 'nope', '--json', '--redis-url', server.url])
    expect(json.code).toBe(1)
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: 'E_TRACE_NOT_FOUND' } })
  })

  it('a wrong password fails with exit 1 and shows neither password', async () => {
    const wrong = server.url.replace(PASSWORD, 'not-the-pw-9')
    const run = await pipeline(['trace', ids['good'] as string, '--redis-url', wrong])
    expect(run.code).toBe(1)
    expect(run.stdout + run.stderr).not.toContain('not-the-pw-9')
    expect(run.stdout + run.stderr).not.toContain(PASSWORD)
  })

  it('with no Redis given and none running for the project, says so and starts nothing', async () => {
    const run = await pipeline(['trace', ids['good'] as string])
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/no managed redis-server is running/i)
    expect(existsSync(join(project, '.pipeline', 'redis.json'))).toBe(false)
  })
})
