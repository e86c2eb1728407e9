import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { bareEnv, runCli } from '../support/cli.js'

// The built CLI as a user runs it, with no Redis given: `up --detach` starts the project's own.
let project: string
let blocker: Server

/** Pids whose working directory is `dir` (a managed redis-server runs in its data folder). */
function processesIn(dir: string): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readlinkSync(`/proc/${p}/cwd`) === dir
      } catch {
        return false
      }
    })
    .map(Number)
}

beforeEach(async () => {
  if (!existsSync(resolve('dist/commands/up.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does).')
  project = mkdtempSync(join(tmpdir(), 'eventspine-detach-'))
  blocker = createServer()
  await new Promise<void>((done) => blocker.listen(0, '127.0.0.1', done))
})
afterEach(async () => {
  await new Promise<void>((done) => blocker.close(() => done()))
  rmSync(project, { recursive: true, force: true })
})

describe('pipeline up --detach that cannot start', () => {
  it('port in use: exit 1, says so, and leaves no managed redis-server behind', async () => {
    const port = (blocker.address() as { port: number }).port
    const run = await runCli(['up', '--detach', '--port', String(port), '--namespace', 'e2e-detach-port'], { cwd: project, env: bareEnv(project) })
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('pipeline up did not start in the background')
    expect(run.stderr).toContain(`cannot serve HTTP on 127.0.0.1:${port}: the port is in use`)
    // The background process started the server and must have stopped it before exiting.
    expect(existsSync(join(project, '.pipeline', 'redis.json'))).toBe(false)
    expect(existsSync(join(project, '.pipeline', 'up.json'))).toBe(false)
    expect(processesIn(join(project, '.pipeline', 'redis'))).toEqual([])
  })
})
