import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bareEnv, runCli, type CliRun as Run } from '../support/cli.js'
import { startTestRedis, type TestRedis } from '../support/redis-server.js'

// The built CLI as a user runs it, on a Redis with a password (which must never be printed).
const PASSWORD = 'r3ply-s3cret-pw'
const NAMESPACE = 'e2e-replies'
let server: TestRedis
let project: string

function pipeline(args: string[]): Promise<Run> {
  return runCli(args, { cwd: project, env: bareEnv(project, { PIPELINE_REDIS_URL: server.url, PIPELINE_NAMESPACE: NAMESPACE }) })
}

beforeAll(async () => {
  if (!existsSync(resolve('dist/commands/dlq/list.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does).')
  project = mkdtempSync(join(tmpdir(), 'eventspine-replies-'))
  server = await startTestRedis({ extraArgs: ['--requirepass', PASSWORD] })
  // Another program keeps a string where eventspine keeps map's dead letters (a stream).
  const redis = new Redis(server.url)
  await redis.set(`{${NAMESPACE}}:dlq:map`, 'not a stream')
  redis.disconnect()
})
afterAll(async () => {
  await server?.stop()
  rmSync(project, { recursive: true, force: true })
})

describe('an error reply of Redis on the command line', () => {
  it('a key of another type in the namespace: the key, what to do, exit 1, no stack and no password', async () => {
    const run = await pipeline(['dlq', 'list', '--consumer', 'map'])
    expect(run.code).toBe(1)
    expect(run.stderr).toContain(`Error: key {${NAMESPACE}}:dlq:map holds another Redis type than eventspine expects (XLEN failed: WRONGTYPE`)
    expect(run.stderr).toContain(`Another program uses this namespace (${NAMESPACE}): pick another --namespace`)
    expect(run.stderr).not.toContain('ReplyError')
    expect(run.stderr).not.toMatch(/^\s+at /m)
    expect(run.stdout + run.stderr).not.toContain(PASSWORD)
  })

  it('--json gives the code and the hint', async () => {
    const run = await pipeline(['dlq', 'list', '--consumer', 'map', '--json'])
    expect(run.code).toBe(1)
    const body = JSON.parse(run.stdout) as { error: { code: string; message: string; hint: string } }
    expect(body.error.code).toBe('E_REDIS_WRONGTYPE')
    expect(body.error.hint).toContain('pick another --namespace')
    expect(run.stdout + run.stderr).not.toContain(PASSWORD)
  })
})
