import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createBus } from '../../src/bus/index.js'
import { EVENT, pipelineConsumers, receivedEvent } from '../../src/pipeline/index.js'
import { readTrace } from '../../src/pipeline/inspect/index.js'
import { managedPaths, readManagedRecord, stopManagedRedis } from '../../src/redis/managed.js'
import { resolveRedis } from '../../src/redis/resolve.js'
import { waitFor } from '../support/bus.js'
import { bareEnv, BIN, runCli } from '../support/cli.js'

// After `pipeline up` has stopped (and its redis-server with it), the reading commands start
// the project's redis-server on the saved AOF, do their work, and leave none running.
const GOOD = resolve('fixtures/inbox/northwind-nav-2026-11-24.csv')
const NOTICE = "started this project's redis-server to read its saved data"
let project: string
let empty: string
let correlationId: string

function pipeline(args: string[], cwd = project) {
  return runCli(args, { cwd, env: bareEnv(cwd) })
}

/** pids of redis-servers running in the project's data dir (redis-server rewrites its command line, not its cwd). */
function serversOf(projectDir: string): number[] {
  const dataDir = managedPaths(projectDir).dataDir
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return readlinkSync(`/proc/${pid}/cwd`) === dataDir && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('redis-server')
      } catch {
        return false
      }
    })
    .map(Number)
}

beforeAll(async () => {
  if (!existsSync(resolve('dist/commands/trace.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does).')
  project = mkdtempSync(join(tmpdir(), 'eventspine-saved-e2e-'))
  empty = mkdtempSync(join(tmpdir(), 'eventspine-saved-e2e-empty-'))
  // What `pipeline up` leaves: its managed server took a file through the pipeline, then stopped.
  const redis = await resolveRedis({ projectDir: project, env: { PATH: process.env['PATH'] ?? '' } })
  const bus = await createBus({ url: redis.url, warn: () => {} })
  const runners = bus.run(pipelineConsumers({ outDir: join(project, '.pipeline', 'out') }), { blockMs: 100 })
  const [published] = await bus.publish(receivedEvent('northwind-nav-2026-11-24.csv', readFileSync(GOOD)))
  correlationId = published?.correlationId as string
  await waitFor(async () => (await readTrace(bus, correlationId))?.status === 'complete', { what: 'the file delivered' })
  await runners.stop()
  await bus.close()
  await redis.release()
  expect(serversOf(project)).toEqual([])
})

afterAll(async () => {
  for (const dir of [project, empty]) {
    if (dir === undefined) continue
    await stopManagedRedis(dir)
    rmSync(dir, { recursive: true, force: true })
  }
})

describe('a stopped pipeline\'s saved data', () => {
  it('trace <file> --json finds the file, notes on stderr that it started Redis, and stops it', async () => {
    const run = await pipeline(['trace', GOOD, '--json'])
    expect(run.code).toBe(0)
    expect(JSON.parse(run.stdout)).toMatchObject({ correlationId, status: 'complete', outcome: EVENT.delivered })
    expect(run.stderr).toContain(NOTICE)
    expect(serversOf(project)).toEqual([])
    expect(readManagedRecord(project)).toBeUndefined()
  })

  it('tail follows it until Ctrl-C, which stops that redis-server too', async () => {
    const child = spawn(process.execPath, [BIN, 'tail', '--since', '1h', '--ndjson'], { cwd: project, env: bareEnv(project) })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => void (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()))
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)))
    try {
      await waitFor(() => stdout.includes(EVENT.delivered), { what: 'the saved events from tail' })
      expect(serversOf(project)).toHaveLength(1)
    } finally {
      child.kill('SIGINT')
    }
    expect(await exited).toBe(0)
    expect(stderr).toContain(NOTICE)
    expect(serversOf(project)).toEqual([])
    expect(readManagedRecord(project)).toBeUndefined()
  })

  it('publish still never starts Redis; status does not either', async () => {
    const publish = await pipeline(['publish', GOOD, '--json'])
    expect(publish.code).toBe(1)
    expect(JSON.parse(publish.stdout)).toMatchObject({ error: { code: 'E_REDIS_NOT_RUNNING' } })
    const status = await pipeline(['status', '--json'])
    expect(status.code).toBe(0)
    expect(JSON.parse(status.stdout)).toMatchObject({ redis: null })
    expect(serversOf(project)).toEqual([])
  })

  it('a project where nothing has run yet: E_REDIS_NOT_RUNNING, nothing started', async () => {
    const run = await pipeline(['trace', GOOD, '--json'], empty)
    expect(run.code).toBe(1)
    const body = JSON.parse(run.stdout) as { error: { code: string; hint: string } }
    expect(body.error.code).toBe('E_REDIS_NOT_RUNNING')
    expect(body.error.hint).toContain('pipeline up')
    expect(run.stderr).not.toContain(NOTICE)
    expect(serversOf(empty)).toEqual([])
  })
})
