import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testRedisUrl } from '../support/namespace.js'
import { bareEnv, runCli, type CliRun as Run } from '../support/cli.js'

// The built CLI as a user runs it (`npm test` builds first).
let project: string

function pipeline(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return runCli(args, { cwd: project, env: bareEnv(project, env) })
}

beforeAll(() => {
  if (!existsSync(resolve('dist/commands/load.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does).')
  project = mkdtempSync(join(tmpdir(), 'eventspine-partitions-'))
})
afterAll(() => rmSync(project, { recursive: true, force: true }))

describe('pipeline load --partitions', () => {
  for (const workers of ['0', '2']) {
    it(`load --events-per-day 2000 --seed 7 --partitions 4 --workers ${workers}: every file checked, 0 mismatches`, async () => {
      const run = await pipeline(['load', '--events-per-day', '2000', '--seed', '7', '--date', '2026-11-20', '--partitions', '4', '--workers', workers, '--json', '--assert', 'mismatches=0'], { PIPELINE_REDIS_URL: testRedisUrl() })
      expect(run.stderr).not.toMatch(/E_PARTITIONS/)
      expect(run.code).toBe(0)
      const report = JSON.parse(run.stdout) as Record<string, any>
      expect(report['mismatches']).toBe(0)
      expect(report['outcomes']['missing']).toBe(0)
      expect(report['workers']).toBe(Number(workers))
    })
  }

  it('refuses a partition count that is not one: a usage error, exit 2', async () => {
    const run = await pipeline(['load', '--partitions', '0'])
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/partition count/)
  })
})
