import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testRedisUrl } from '../support/namespace.js'
import { bareEnv, runCli } from '../support/cli.js'

// The built CLI as a user runs it (`npm test` builds first).
let scratch: string

function pipeline(args: string[], cwd = resolve('.')): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCli(args, { cwd, env: bareEnv(scratch) })
}

beforeAll(() => {
  if (!existsSync(resolve('dist/commands/fuzz.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does).')
  scratch = mkdtempSync(join(tmpdir(), 'eventspine-fuzz-'))
})
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

describe('pipeline fuzz', () => {
  it('checks built-in consumers: a consumer x property table, exit 0, and --json results', async () => {
    const table = await pipeline(['fuzz', '--consumer', 'validate', '--runs', '5', '--seed', '1', '--redis-url', testRedisUrl()])
    expect(table.code).toBe(0)
    expect(table.stdout).toMatch(/validate\s+idempotency\s+pass\s+5\s+1/)
    expect(table.stdout).toContain('5/5 properties hold (seed 1')
    const json = await pipeline(['fuzz', '--consumer', 'deliver', '--runs', '3', '--seed', '2', '--json', '--redis-url', testRedisUrl()])
    expect(json.code).toBe(0)
    const doc = JSON.parse(json.stdout) as { passed: boolean; results: { consumer: string; property: string; passed: boolean; runs: number; seed: number; counterexample: unknown }[] }
    expect(doc.passed).toBe(true)
    expect(doc.results.map((r) => r.property)).toEqual(['idempotency', 'ordering', 'replay', 'crash-safety', 'poison-isolation'])
    expect(doc.results.every((r) => r.consumer === 'deliver' && r.runs === 3 && r.seed === 2 && r.counterexample === null)).toBe(true)
  })

  it('a user project (pipeline.config.ts) with a broken consumer: exit 1, the story, the reproduce command and JUnit', async () => {
    const junit = join(scratch, 'fuzz.xml')
    const run = await pipeline(['fuzz', '--property', 'ordering', '--seed', '7', '--junit', junit, '--redis-url', testRedisUrl()], resolve('test/check/project'))
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(/last-credited\s+ordering\s+FAIL/)
    expect(run.stdout).toMatch(/ledger\s+ordering\s+pass\s+100/)
    expect(run.stdout).toContain('what happened:')
    expect(run.stdout).toMatch(/reproduce: pipeline fuzz --consumer last-credited --property ordering --seed 7 --runs 100 --path '[^']+'/)
    expect(readFileSync(junit, 'utf8')).toContain('<testcase classname="fuzz.last-credited" name="ordering"')
  })

  it('a consumer whose type has no contract is a usage error (exit 2) naming the type and the fix; --contracts supplies it', async () => {
    const missing = await pipeline(['fuzz', '--consumer', 'test/check/broken/cross-key-order.ts', '--property', 'ordering', '--seed', '7', '--redis-url', testRedisUrl()])
    expect(missing.code).toBe(2)
    // oclif wraps a usage error's lines behind "›": read it as one line.
    const said = missing.stderr.replace(/\s*›\s*/g, ' ').replace(/\s+/g, ' ')
    expect(said).toContain('consumer last-credited subscribes to account.credited, which has no contract')
    expect(said).toContain('--contracts DIR')
    expect(missing.stdout).not.toContain('FAIL')
    const run = await pipeline(['fuzz', '--consumer', 'test/check/broken/cross-key-order.ts', '--contracts', 'test/check/contracts', '--property', 'ordering', '--seed', '7', '--json', '--redis-url', testRedisUrl()])
    expect(run.code).toBe(1)
    const doc = JSON.parse(run.stdout) as { results: { passed: boolean; reproduce?: string }[] }
    expect(doc.results[0]?.passed).toBe(false)
    expect(doc.results[0]?.reproduce).toMatch(/^pipeline fuzz --consumer test\/check\/broken\/cross-key-order\.ts --property ordering --seed 7 --runs 100 --contracts test\/check\/contracts --path '[^']+'$/)
  })
})
