import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isPidAlive } from '../../src/redis/process.js'
import { readClusterRecord } from '../../src/redis/cluster.js'
import { bareEnv, runCli, type CliRun } from '../support/cli.js'

// `pipeline up --cluster 3` as a user runs it: a managed 3-master cluster under .pipeline/cluster.
let project: string
const cli = (args: string[]): Promise<CliRun> => runCli(args, { cwd: project, env: bareEnv(project) })

beforeAll(() => {
  if (!existsSync(resolve('dist/commands/up.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does).')
  project = mkdtempSync(join(tmpdir(), 'eventspine-cluster-up-'))
})
afterAll(async () => {
  await cli(['down']) // whatever a failed test left running
  rmSync(project, { recursive: true, force: true })
})

describe('pipeline up --cluster', () => {
  it('--cluster 3 --demo --detach: a file published is traced to its ending; down stops the nodes; a second up reuses them', async () => {
    const up = await cli(['up', '--cluster', '3', '--demo', '--detach', '--port', '0'])
    expect(up.code, up.stdout + up.stderr).toBe(0)
    expect(up.stdout).toMatch(/^pipeline up: redis redis\+cluster:\/\/127\.0\.0\.1:\d+,127\.0\.0\.1:\d+,127\.0\.0\.1:\d+ \(managed-started\)/)
    expect(up.stdout).toMatch(/ {2}cluster {2}3 masters, data in \S+\.pipeline\/cluster\n/)
    expect(up.stdout.match(/^ {4}127\.0\.0\.1:\d+ +master +slots \d+-\d+ +pid \d+$/gm)).toHaveLength(3)
    const record = readClusterRecord(join(project, '.pipeline', 'cluster'))
    expect(record?.ports).toHaveLength(3)

    const published = await cli(['publish', '--wait', resolve('fixtures/faulty/northwind-nav-bad-isin.csv')])
    expect(published.stdout, published.stderr).toMatch(/northwind-nav-bad-isin\.csv {2}rejected at validate: /)
    const trace = await cli(['trace', resolve('fixtures/faulty/northwind-nav-bad-isin.csv')])
    expect(trace.code, trace.stderr).toBe(0)
    expect(trace.stdout).toMatch(/pipeline\.file\.rejected {2}validate /)

    const down = await cli(['down'])
    expect(down.code).toBe(0)
    expect(down.stdout).toContain('Stopped the managed Redis Cluster (3 nodes); its data stays in .pipeline/cluster.')
    expect(Object.values(record?.pids ?? {}).filter((pid) => isPidAlive(pid))).toEqual([])

    // Started again from its folder: the same nodes, and the file's history is still there.
    const again = await cli(['up', '--cluster', '3', '--detach', '--port', '0'])
    expect(again.code, again.stdout + again.stderr).toBe(0)
    expect(again.stdout).toContain(record?.url ?? 'no record')
    const retrace = await cli(['trace', resolve('fixtures/faulty/northwind-nav-bad-isin.csv')])
    expect(retrace.stdout).toMatch(/pipeline\.file\.rejected {2}validate /)
    expect((await cli(['down'])).code).toBe(0)
  })

  it('--cluster with --redis-url is a usage error', async () => {
    const run = await cli(['up', '--cluster', '3', '--redis-url', 'redis://127.0.0.1:1'])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('--cluster and --redis-url (or PIPELINE_REDIS_URL) cannot go together')
  })
})
