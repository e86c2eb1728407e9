import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { waitFor } from '../support/bus.js'
import { testNamespace, testRedisUrl } from '../support/namespace.js'
import { BIN, runCli } from '../support/cli.js'

// The built CLI as a user runs it (`npm test` builds first); stdout is a pipe, so plain lines.
const FIXTURE = resolve('fixtures/inbox/northwind-nav-2026-11-24.csv')
let project: string

interface FileResponse {
  journey: { status: string } | null
  events: { type?: string; payload?: { outputPath?: string } }[]
}

function env(namespace: string): NodeJS.ProcessEnv {
  return { PATH: process.env['PATH'] ?? '', HOME: project, PIPELINE_REDIS_URL: testRedisUrl(), PIPELINE_NAMESPACE: namespace }
}

function pipeline(args: string[], namespace: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCli(args, { cwd: project, env: env(namespace) })
}

beforeEach(() => {
  if (!existsSync(resolve('dist/commands/up.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does).')
  project = mkdtempSync(join(tmpdir(), 'eventspine-up-'))
})
afterEach(() => {
  rmSync(project, { recursive: true, force: true })
})

// Each CLI start costs seconds on a loaded machine; the detach story runs six of them.
describe('pipeline up', () => {
  it('runs the pipeline, delivers a published file, answers HTTP, and stops cleanly on SIGINT', async () => {
    const namespace = testNamespace('up')
    const up = spawn(process.execPath, [BIN, 'up', '--port', '0'], { cwd: project, env: env(namespace), stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    up.stdout.on('data', (chunk: Buffer) => void (stdout += chunk.toString()))
    up.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()))
    const exited = new Promise<number | null>((done) => up.on('exit', (code) => done(code)))
    try {
      const http = await waitFor(() => /http {3}(http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)?.[1], { what: 'the HTTP URL on stdout' })
      expect(stdout).toContain(`inbox  ${join(project, '.pipeline', 'inbox')}`)

      const published = await pipeline(['publish', FIXTURE, '--json'], namespace)
      expect(published.stderr).toBe('')
      expect(published.code).toBe(0)
      const result = JSON.parse(published.stdout) as { files: { file: string; correlationId: string }[]; pipelineUp: boolean }
      expect(result.pipelineUp).toBe(true)
      const id = result.files[0]?.correlationId ?? ''
      expect(id).toMatch(/^[0-9a-f-]{36}$/)

      const day = await waitFor(async () => {
        const res = await fetch(`${http}/files/${id}`)
        const body = res.status === 200 ? ((await res.json()) as FileResponse) : null
        return body?.journey?.status === 'delivered' ? body : null
      }, { what: 'the file delivered' })
      expect(day.journey?.status).toBe('delivered')
      // The folder is the day the file was received (today, whatever today is): take it from
      // the delivered event rather than guessing a date.
      const outputPath = day.events.find((e) => e.type === 'pipeline.file.delivered')?.payload?.outputPath
      expect(outputPath).toMatch(new RegExp(`^\\d{4}-\\d{2}-\\d{2}/nav/${id}\\.json$`))
      const written = join(project, '.pipeline', 'out', outputPath as string)
      expect(existsSync(written), 'output file').toBe(true)
      expect(JSON.parse(readFileSync(written, 'utf8'))).toMatchObject({ correlationId: id, kind: 'nav', provider: 'northwind' })
      await waitFor(() => stdout.includes(`delivered northwind-nav-2026-11-24.csv`), { what: 'a plain line for the delivered file' })

      const status = await pipeline(['status', '--json'], namespace)
      expect(status.code).toBe(0)
      expect(JSON.parse(status.stdout)).toMatchObject({ figuresFrom: 'runtime', http })
      expect(existsSync(join(project, '.pipeline', 'up.json'))).toBe(true)

      up.kill('SIGINT')
      expect(await exited).toBe(0)
      expect(stdout).toContain('SIGINT: stopping')
      expect(stdout).toContain('Stopped cleanly')
      expect(stderr).toBe('')
      expect(existsSync(join(project, '.pipeline', 'up.json'))).toBe(false)
    } finally {
      if (up.exitCode === null) up.kill('SIGKILL')
    }
  })

  it('--detach runs it in the background; status reads its figures; down stops it', async () => {
    const namespace = testNamespace('detach')
    const started = await pipeline(['up', '--detach', '--port', '0'], namespace)
    expect(started.stderr).toBe('')
    expect(started.code).toBe(0)
    expect(started.stdout).toContain('Running in the background (pid')
    const record = JSON.parse(readFileSync(join(project, '.pipeline', 'up.json'), 'utf8')) as { pid: number; logPath: string }
    expect(record.logPath).toBe(join(project, '.pipeline', 'up.log'))
    try {
      const again = await pipeline(['up', '--port', '0'], namespace)
      expect(again.code).toBe(1)
      expect(again.stderr).toContain('already running')
      await waitFor(async () => JSON.parse((await pipeline(['status', '--json'], namespace)).stdout).figuresFrom === 'runtime', { what: 'runtime figures' })
      const down = await pipeline(['down'], namespace)
      expect(down.code).toBe(0)
      expect(down.stdout).toContain(`Stopped pipeline up (pid ${record.pid})`)
      expect(() => process.kill(record.pid, 0)).toThrow()
      expect(readFileSync(record.logPath, 'utf8')).toContain('Stopped cleanly')
      const nothing = await pipeline(['down'], namespace)
      expect(nothing.stdout).toContain('Nothing to stop')
    } finally {
      try {
        process.kill(record.pid, 'SIGKILL')
      } catch {
        // already stopped
      }
    }
  })

  it('publish refuses a missing file, a glob with no match and a directory, naming each', async () => {
    const namespace = testNamespace('publish')
    for (const [arg, message] of [['missing.csv', 'no such file: missing.csv'], ['*.nothing', 'no file matches *.nothing'], ['.', '. is a directory']] as const) {
      const run = await pipeline(['publish', arg], namespace)
      expect(run.code, arg).toBe(1)
      expect(run.stderr).toContain(message)
    }
  })

  it('worker refuses an unknown stage and lists the valid ones: a usage error, exit 2', async () => {
    const run = await pipeline(['worker', '--stage', 'mapp'], testNamespace('worker'))
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('unknown stage "mapp"')
    expect(run.stderr).toContain('ingest, map, validate, enrich, resolve, score, deliver, nav-latest, file-journey')
  })

  it('worker refuses a reference folder it cannot read and a visibility timeout that is not a duration', async () => {
    const reference = await pipeline(['worker', '--stage', 'enrich', '--reference', 'no-such-dir'], testNamespace('worker'))
    expect(reference.code).toBe(1)
    expect(reference.stderr).toContain('cannot read reference table')
    expect(reference.stderr).toContain('funds.csv')
    const timeout = await pipeline(['worker', '--stage', 'enrich', '--visibility-timeout', 'soon'], testNamespace('worker'))
    expect(timeout.code).toBe(2)
    expect(timeout.stderr).toContain('--visibility-timeout "soon" is not a duration')
  })
})
