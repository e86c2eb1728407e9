import { spawn } from 'node:child_process'
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createBus, type Bus, type Runners } from '../../src/bus/index.js'
import { pipelineConsumers } from '../../src/pipeline/index.js'
import { readTrace } from '../../src/pipeline/inspect/index.js'
import { waitFor } from '../support/bus.js'
import { bareEnv, BIN, runCli, type CliRun } from '../support/cli.js'
import { startTestRedis, type TestRedis } from '../support/redis-server.js'

// A file name a user chose to attack the terminal: a colour, an OSC title-set, a C1 CSI, a bidi override.
const EVIL = '\u001b[31mred\u001b[0m-\u001b]0;pwned\u0007-\u009b2J-\u202eevil.csv'
const SHOWN = '\\u001b[31mred\\u001b[0m-\\u001b]0;pwned\\u0007-\\u009b2J-\\u202eevil.csv'
const NAMESPACE = 'e2e-terminal-safe'
/** Anything a terminal would act on; the CLI adds no colour into a pipe, so none may appear. */
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/

let server: TestRedis
let bus: Bus
let runners: Runners
let project: string
let published: CliRun
let correlationId: string

function pipeline(args: string[]): Promise<CliRun> {
  return runCli([...args, '--redis-url', server.url], { cwd: project, env: bareEnv(project, { PIPELINE_NAMESPACE: NAMESPACE }) })
}

beforeAll(async () => {
  if (!existsSync(resolve('dist/commands/trace.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does).')
  project = mkdtempSync(join(tmpdir(), 'eventspine-terminal-safe-e2e-'))
  copyFileSync(resolve('fixtures/inbox/northwind-nav-2026-11-24.csv'), join(project, EVIL))
  server = await startTestRedis()
  bus = await createBus({ url: server.url, namespace: NAMESPACE, warn: () => {} })
  runners = bus.run(pipelineConsumers({ outDir: join(project, 'out') }), { blockMs: 100 })
  published = await pipeline(['publish', EVIL])
  if (published.code !== 0) throw new Error(`publish failed: ${published.stderr}`)
  correlationId = published.stdout.split(' ')[0] ?? ''
  await waitFor(async () => (await readTrace(bus, correlationId))?.status === 'complete', { what: 'the file to be delivered' })
})

afterAll(async () => {
  await runners?.stop()
  await bus?.close()
  await server?.stop()
  rmSync(project, { recursive: true, force: true })
})

describe('a file name with control characters', () => {
  it('publish prints it escaped', () => {
    expect(published.code).toBe(0)
    expect(published.stdout).toContain(SHOWN)
    expect(published.stdout).not.toMatch(RAW_CONTROL)
  })

  it('trace shows it escaped in the tree; --json keeps the name, with every control as a JSON escape', async () => {
    const run = await pipeline(['trace', correlationId])
    expect(run.code).toBe(0)
    expect(run.stdout).toContain(`${SHOWN} · correlation ${correlationId}`)
    expect(run.stdout).toContain(`fileName=\\u001b[31mred`)
    expect(run.stdout).not.toMatch(RAW_CONTROL)
    const json = await pipeline(['trace', correlationId, '--json'])
    expect(json.stdout).not.toMatch(RAW_CONTROL)
    expect((JSON.parse(json.stdout) as { fileName: string }).fileName).toBe(EVIL)
  })

  it('tail shows it escaped on its lines and in --ndjson', async () => {
    for (const ndjson of [false, true]) {
      const child = spawn(process.execPath, [BIN, 'tail', '--redis-url', server.url, '--since', '1h', '--correlation-id', correlationId, ...(ndjson ? ['--ndjson'] : [])], {
        cwd: project,
        env: bareEnv(project, { PIPELINE_NAMESPACE: NAMESPACE }),
      })
      let stdout = ''
      child.stdout.on('data', (chunk: Buffer) => void (stdout += chunk.toString()))
      const exited = new Promise((done) => child.on('exit', done))
      await waitFor(() => stdout.includes('pipeline.file.delivered'), { what: 'tail to print the journey' })
      child.kill('SIGINT')
      await exited
      expect(stdout).not.toMatch(RAW_CONTROL)
      if (ndjson) {
        const received = stdout.split('\n').map((l) => JSON.parse(l || 'null') as { type: string; payload: { fileName: string } } | null).find((e) => e?.type === 'pipeline.file.received')
        expect(received?.payload.fileName).toBe(EVIL)
      } else {
        expect(stdout).toContain('fileName=\\u001b[31mred\\u001b[0m')
      }
    }
  })
})
