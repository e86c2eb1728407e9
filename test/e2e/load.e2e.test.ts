import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Redis } from 'ioredis'
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
  project = mkdtempSync(join(tmpdir(), 'eventspine-load-'))
})
afterAll(() => rmSync(project, { recursive: true, force: true }))

describe('pipeline generate and pipeline load', () => {
  it('generate writes the same bytes twice for one seed and prints a summary', async () => {
    const args = ['generate', '--events-per-day', '300', '--date', '2026-11-20', '--seed', '4', '--faults', '0.2']
    const a = await pipeline([...args, '--out', 'a'])
    const b = await pipeline([...args, '--out', 'b', '--json'])
    expect(a.code).toBe(0)
    expect(a.stdout).toContain('Day 2026-11-20 (seed 4) written to')
    expect(b.code).toBe(0)
    const summary = JSON.parse(b.stdout) as { files: number; expectedEvents: number }
    expect(summary.expectedEvents).toBeGreaterThanOrEqual(300)
    const names = readdirSync(join(project, 'a', 'inbox')).sort()
    expect(names).toEqual(readdirSync(join(project, 'b', 'inbox')).sort())
    expect(names).toHaveLength(summary.files)
    for (const name of names) expect(readFileSync(join(project, 'a', 'inbox', name)).equals(readFileSync(join(project, 'b', 'inbox', name)))).toBe(true)
    expect(readFileSync(join(project, 'a', 'manifest.json'), 'utf8')).toBe(readFileSync(join(project, 'b', 'manifest.json'), 'utf8'))
  })

  it('load --json reports the run; a broken gate exits 1 and is listed', async () => {
    await pipeline(['generate', '--events-per-day', '300', '--date', '2026-11-20', '--seed', '6', '--faults', '0.2', '--out', 'day'])
    const run = await pipeline(['load', '--day', 'day', '--json', '--assert', 'mismatches=0', '--assert', 'p99<0ms'], { PIPELINE_REDIS_URL: testRedisUrl() })
    expect(run.code).toBe(1)
    const report = JSON.parse(run.stdout) as Record<string, any>
    expect(report['mismatches']).toBe(0)
    expect(report['mismatchList']).toEqual([])
    expect(report['deadLetters']).toBe(0)
    expect(report['eventsPerSecond']).toBeGreaterThan(0)
    expect(Object.keys(report['latencyMs'])).toEqual(expect.arrayContaining(['p50', 'p95', 'p99', 'max']))
    expect(report['gates'].map((g: { text: string; ok: boolean }) => [g.text, g.ok])).toEqual([
      ['mismatches=0', true],
      ['p99<0ms', false],
    ])
    expect(report['gatesBroken']).toBe(1)
  })

  it('load --workers 2 runs the consumers in two pipeline worker processes: every file checked, nothing left in Redis after', async () => {
    await pipeline(['generate', '--events-per-day', '400', '--date', '2026-11-20', '--seed', '8', '--faults', '0.2', '--out', 'day-workers'])
    const run = await pipeline(['load', '--day', 'day-workers', '--workers', '2', '--json', '--assert', 'mismatches=0'], { PIPELINE_REDIS_URL: testRedisUrl() })
    expect(run.code, run.stderr).toBe(0)
    const report = JSON.parse(run.stdout) as Record<string, any>
    expect(report['workers']).toBe(2)
    expect(report['mismatches']).toBe(0)
    expect(report['events']).toBe(report['expectedEvents'])
    expect(report['outcomes']['missing']).toBe(0)
    // The workers stopped before the namespace was deleted: none wrote a key back after it.
    const redis = new Redis(testRedisUrl())
    try {
      expect(await redis.keys(`{${report['namespace'] as string}}:*`)).toEqual([])
    } finally {
      redis.disconnect()
    }
  })

  it('load refuses --workers with --chaos (a chaos run starts one worker per stage): a usage error, exit 2', async () => {
    const run = await pipeline(['load', '--chaos', '--workers', '2'])
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/--workers.*--chaos|--chaos.*--workers/)
  })

  it('load refuses an unreadable gate with a hint: a usage error, exit 2', async () => {
    const run = await pipeline(['load', '--assert', 'p99 is low'], { PIPELINE_REDIS_URL: testRedisUrl() })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('cannot read the gate "p99 is low"')
    expect(run.stderr).toContain("e.g. 'p99<50ms'")
  })

  it('a bad value of a day flag is a usage error (exit 2) with what to use, also under --json', async () => {
    const speed = await pipeline(['load', '--speed', 'fast'], { PIPELINE_REDIS_URL: testRedisUrl() })
    expect(speed.code).toBe(2)
    expect(speed.stderr).toContain('--speed fast is not a speed')
    expect(speed.stderr).toContain('60x')
    const bad = [['--faults', '3', '--faults 3 is not a rate'], ['--date', '2026-13-45', '--date 2026-13-45 is not a date'], ['--events-per-day', '0', '--events-per-day 0 is out of range'], ['--kinds', 'nav,bogus', '--kinds names unknown kind bogus']] as const
    for (const [flag, value, message] of bad) {
      const run = await pipeline(['generate', flag, value, '--out', 'never', '--json'])
      expect(run.code, flag).toBe(2)
      const body = JSON.parse(run.stdout) as { error: { code: string; message: string; hint: string } }
      expect(body.error).toMatchObject({ code: 'E_FLAG', message })
      expect(body.error.hint).toMatch(/^Use /)
    }
    expect(existsSync(join(project, 'never'))).toBe(false)
  })
})
