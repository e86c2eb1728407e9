import { spawn } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { waitFor } from '../support/bus.js'
import { BIN } from '../support/cli.js'
import { testNamespace, testRedisUrl } from '../support/namespace.js'

// A new user drops garbage into the inbox of `pipeline up` (the built CLI, plain output): each
// piece is refused with a rule and a message they can read, and the pipeline keeps delivering.
const GOOD = resolve('fixtures/inbox/northwind-nav-2026-11-24.csv')
let project: string

beforeEach(() => {
  if (!existsSync(resolve('dist/commands/up.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does).')
  project = mkdtempSync(join(tmpdir(), 'eventspine-garbage-'))
})
afterEach(() => {
  rmSync(project, { recursive: true, force: true })
})

describe('pipeline up with garbage in the inbox', () => {
  it('refuses a folder, rejects an empty file and 100,000-deep JSON by rule, and still delivers the next file', async () => {
    const namespace = testNamespace('garbage')
    const env = { PATH: process.env['PATH'] ?? '', HOME: project, PIPELINE_REDIS_URL: testRedisUrl(), PIPELINE_NAMESPACE: namespace }
    const up = spawn(process.execPath, [BIN, 'up', '--port', '0'], { cwd: project, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    up.stdout.on('data', (chunk: Buffer) => void (stdout += chunk.toString()))
    up.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()))
    const exited = new Promise<number | null>((done) => up.on('exit', (code) => done(code)))
    const seen = (text: string | RegExp, what: string) =>
      waitFor(() => (typeof text === 'string' ? stdout.includes(text) : text.test(stdout)), { what: `${what} (stdout so far: ${stdout.slice(-800)})` })
    try {
      const inbox = join(project, '.pipeline', 'inbox')
      await seen(`inbox  ${inbox}`, 'the banner')
      mkdirSync(join(inbox, 'november'))
      writeFileSync(join(inbox, 'november', 'nav.csv'), readFileSync(GOOD))
      writeFileSync(join(inbox, 'empty.csv'), '')
      writeFileSync(join(inbox, 'deep.json'), `${'['.repeat(100_000)}${']'.repeat(100_000)}`)
      await seen(/warning: .*inbox: november was not published \(not-a-file: november is a directory/, 'the folder refused')
      expect(readFileSync(join(inbox, '.failed', 'november.reason.txt'), 'utf8')).toMatch(/^not-a-file: november is a directory/)
      await seen(/rejected\s+empty\.csv .*empty-file/, 'empty.csv rejected by rule')
      await seen(/rejected\s+deep\.json .*json-too-deep/, 'deep.json rejected by rule')
      copyFileSync(GOOD, join(inbox, 'good.csv'))
      await seen(/delivered\s+good\.csv/, 'the next good file delivered')
      up.kill('SIGINT')
      expect(await exited).toBe(0)
      expect(stderr).toBe('')
    } finally {
      if (up.exitCode === null) up.kill('SIGKILL')
    }
  })
})
