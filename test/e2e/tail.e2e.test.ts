import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createBus, permissiveContracts, type Bus } from '../../src/bus/index.js'
import { EVENT, receivedEvent } from '../../src/pipeline/index.js'
import { waitFor } from '../support/bus.js'
import { BIN } from '../support/cli.js'
import { startTestRedis, type TestRedis } from '../support/redis-server.js'

// `pipeline tail` as a user runs it, against a Redis with a password.
const PASSWORD = 'ta1l-s3cret-pw'
const NAMESPACE = 'e2e-tail'

let server: TestRedis
let bus: Bus
let project: string

beforeAll(async () => {
  if (!existsSync(resolve('dist/commands/tail.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does).')
  project = mkdtempSync(join(tmpdir(), 'eventspine-tail-e2e-'))
  server = await startTestRedis({ extraArgs: ['--requirepass', PASSWORD] })
  bus = await createBus({ url: server.url, namespace: NAMESPACE, contracts: permissiveContracts, warn: () => {} })
})

afterAll(async () => {
  await bus?.close()
  await server?.stop()
  rmSync(project, { recursive: true, force: true })
})

/** Starts `pipeline tail`; stop() sends Ctrl-C (SIGINT) and resolves with its output and exit code. */
function tail(args: string[]) {
  const child = spawn(process.execPath, [BIN, 'tail', '--redis-url', server.url, ...args], {
    cwd: project,
    env: { PATH: process.env['PATH'] ?? '', HOME: project, PIPELINE_NAMESPACE: NAMESPACE },
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => void (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()))
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)))
  const result = async () => ({ code: await exited, stdout, stderr })
  return {
    lines: () => stdout.split('\n').filter((l) => l !== ''),
    /** Resolves once tail says what it follows (it reads from that moment on). */
    started: () => waitFor(() => stderr.includes('following'), { what: 'tail to start' }),
    /** Resolves when it exits by itself. */
    done: result,
    async stop() {
      child.kill('SIGINT')
      return result()
    },
  }
}

describe('pipeline tail', () => {
  it('--ndjson: live events for jq from a quiet namespace; Ctrl-C exits cleanly; no password anywhere', async () => {
    const run = tail(['--ndjson', '--type', 'pipeline.file.*'])
    await run.started() // blocking on a namespace with no streams yet
    const content = readFileSync('fixtures/inbox/northwind-nav-2026-11-24.csv')
    const [published] = await bus.publish([receivedEvent('nav.csv', content), { type: 'other.thing', key: 'x', payload: {} }])
    await waitFor(() => run.lines().length >= 1, { what: 'a line from tail' })
    const { code, stdout, stderr } = await run.stop()
    expect(code).toBe(0)
    expect(stderr).toContain('following no streams yet')
    const events = stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; correlationId: string; entryId: string })
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({ type: EVENT.received, correlationId: published?.correlationId })
    expect(stdout + stderr).not.toContain(PASSWORD)
  })

  it('plain lines from --since, one per event, no colour in a pipe', async () => {
    const run = tail(['--since', '10m', '--correlation-id', 'corr-e2e'])
    await bus.publish({ type: 'plain.event', key: 'k-1', correlationId: 'corr-e2e' as never, payload: { fileName: 'a.csv', rowCount: 3 } })
    await waitFor(() => run.lines().length >= 1, { what: 'a line from tail' })
    const { code, stdout } = await run.stop()
    expect(code).toBe(0)
    expect(stdout).toMatch(/^\d\d:\d\d:\d\d\.\d{3} plain\.event +k-1 +corr-e2e +eventspine@\S+ +fileName=a\.csv rowCount=3\n$/)
    expect(stdout).not.toContain('\u001b[')
  })

  it('a bad --since is a clear usage error, exit 2', async () => {
    const { code, stderr } = await tail(['--since', 'last tuesday']).done()
    expect(code).toBe(2)
    expect(stderr).toContain('neither a duration nor a stream entry id')
    expect(stderr).not.toContain(PASSWORD)
  })
})
