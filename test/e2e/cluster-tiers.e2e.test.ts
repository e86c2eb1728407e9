import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bareEnv, runCli, type CliRun } from '../support/cli.js'
import { testClusterClient } from '../support/cluster.js'
import { testClusterUrl } from '../support/namespace.js'
import { scanAll } from '../../src/redis/nodes.js'

// The pipeline and fuzz tiers on the run's 3-master Redis Cluster, as a user runs them.
let project: string
const cli = (args: string[]): Promise<CliRun> => runCli(args, { cwd: project, env: bareEnv(project) })

beforeAll(() => {
  if (!existsSync(resolve('dist/commands/load.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does).')
  project = mkdtempSync(join(tmpdir(), 'eventspine-cluster-tiers-'))
})
afterAll(() => rmSync(project, { recursive: true, force: true }))

describe('the pipeline and fuzz tiers on a Redis Cluster', () => {
  it('load --partitions 4 --workers 2: a generated day with 0 mismatches, its partitions spread over the masters, nothing left behind', async () => {
    // --faults 0: this tier is about the cluster losing and doubling nothing; content faults are
    // the standalone load tests' (with P > 1 a NAV is compared with the last its partition saw).
    const run = await cli(['load', '--redis-url', testClusterUrl(), '--events-per-day', '2000', '--seed', '7', '--faults', '0', '--partitions', '4', '--workers', '2', '--json', '--assert', 'mismatches=0'])
    expect(run.code, run.stderr).toBe(0)
    const report = JSON.parse(run.stdout) as { mismatches: number; mismatchList: unknown[]; workers: number; namespace: string; outcomes: Record<string, number>; files: number; deadLetters: number; events: number; expectedEvents: number }
    expect(report.mismatchList).toEqual([])
    expect(report.mismatches).toBe(0)
    expect(report.workers).toBe(2)
    expect(report.outcomes['missing']).toBe(0)
    expect(report.outcomes['delivered']).toBeGreaterThan(0)
    expect(report.deadLetters).toBe(0)
    expect(report.events).toBeGreaterThanOrEqual(report.expectedEvents)
    // The run deleted its namespace: the registry under {ns} and every partition {ns:p}.
    const left = await scanAll(testClusterClient(), { match: `{${report.namespace}*` })
    expect(left).toEqual([])
  })

  it('pipeline fuzz: every built-in consumer keeps every property on the cluster', async () => {
    const run = await cli(['fuzz', '--redis-url', testClusterUrl(), '--runs', '5', '--seed', '20261202', '--json'])
    expect(run.code, run.stdout + run.stderr).toBe(0)
    const doc = JSON.parse(run.stdout) as { passed: boolean; results: { consumer: string; property: string; passed: boolean }[] }
    expect(doc.results.filter((r) => !r.passed)).toEqual([])
    expect(doc.results.length).toBeGreaterThanOrEqual(9 * 5)
    expect(doc.passed).toBe(true)
  })
})
