import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHAOS_FAULTS } from '../../src/sim/chaos/schedule.js'
import { waitFor } from '../support/bus.js'
import { bareEnv, BIN, runCli, type CliRun } from '../support/cli.js'
import { testNamespace, testRedisUrl } from '../support/namespace.js'

let project: string

function pipeline(args: string[], timeoutMs?: number): Promise<CliRun> {
  return runCli(args, { cwd: project, env: bareEnv(project), ...(timeoutMs === undefined ? {} : { timeoutMs }) })
}

beforeAll(() => {
  if (!existsSync(resolve('dist/sim/chaos/run.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does).')
  project = mkdtempSync(join(tmpdir(), 'eventspine-chaos-'))
})
afterAll(() => rmSync(project, { recursive: true, force: true }))

interface Fault {
  kind: string
  stage: string | null
  atMs: number
  recoveredMs: number | null
}

describe('pipeline load --chaos', () => {
  it('injects every fault into worker processes, each recovers, and the manifest check finds nothing wrong', { timeout: 600_000 }, async () => {
    const run = await pipeline(
      ['load', '--chaos', '--seed', '11', '--events-per-day', '2500', '--date', '2026-11-20', '--json', '--assert', 'mismatches=0', '--assert', 'unrecovered=0'],
      // A worker process per stage and a day of events on two cores: minutes under load.
      580_000,
    )
    expect(run.stderr).not.toMatch(/Error/)
    expect(run.code).toBe(0)
    const report = JSON.parse(run.stdout) as Record<string, any>
    const faults = report['faults'] as Fault[]
    expect(faults.map((f) => f.kind).sort()).toEqual([...CHAOS_FAULTS].sort())
    for (const f of faults) expect(f.recoveredMs, f.kind).toEqual(expect.any(Number))
    expect(faults.map((f) => f.atMs)).toEqual(faults.map((f) => f.atMs).sort((a, b) => a - b))
    expect(report['mismatches']).toBe(0)
    expect(report['chaos']['violations']).toEqual([])
    expect(report['outcomes']['missing']).toBe(0)
    expect(report['outcomes']['delivered']).toBeGreaterThan(100)
    // Poison only: each poison entry is dead-lettered by every stage reading its stream.
    expect(report['chaos']['poisonEvents']).toBeGreaterThanOrEqual(5)
    expect(report['deadLetters']).toBeGreaterThanOrEqual(report['chaos']['poisonEvents'])
    expect(report['gatesBroken']).toBe(0)
    // The JSON of a chaos run never carries a password-bearing URL or stray output.
    expect(run.stdout.trim().startsWith('{')).toBe(true)
  })

  it('a worker started with an IPC channel drains and stops when its parent goes', async () => {
    const child = spawn(process.execPath, [BIN, 'worker', '--stage', 'map', '--redis-url', testRedisUrl(), '--namespace', testNamespace('ipc')], {
      cwd: project,
      env: bareEnv(project),
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    })
    let out = ''
    child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()))
    await waitFor(() => out.includes('Ctrl-C to stop.'), { what: 'the worker to start' })
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    child.disconnect()
    expect(await exited).toBe(0)
    expect(out).toContain('Stopped cleanly.')
  })

  it('refuses --redis-url: a chaos run faults only a Redis of its own', async () => {
    const run = await pipeline(['load', '--chaos', '--redis-url', testRedisUrl()])
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('--chaos cannot run on --redis-url')
    expect(run.stderr).toContain('Drop --redis-url')
  })

  it('refuses recovery gates without --chaos, before doing any work', async () => {
    const run = await pipeline(['load', '--assert', 'unrecovered=0', '--redis-url', testRedisUrl()])
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('needs --chaos')
  })
})
