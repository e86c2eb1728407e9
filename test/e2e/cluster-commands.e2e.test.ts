import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startPipeline, type PipelineHandle } from '../../src/pipeline/host/index.js'
import { waitFor } from '../support/bus.js'
import { BIN, bareEnv, runCli, type CliRun } from '../support/cli.js'
import { deleteClusterNamespace, farNodeUrl } from '../support/cluster.js'
import { testClusterUrl } from '../support/namespace.js'

// Every command on a Redis Cluster, through the URL of a node that does NOT hold the
// namespace's slot (the case: `{a}` is slot 15495, not on the node in the URL).
let project: string
let pipeline: PipelineHandle
let url: string
const namespace = `cluster-cmd-${process.pid}`

const inbox = (name: string) => resolve('fixtures/inbox', name)
const cli = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> =>
  runCli(args, { cwd: project, env: bareEnv(project, { PIPELINE_REDIS_URL: url, PIPELINE_NAMESPACE: namespace, ...env }) })

beforeAll(async () => {
  if (!existsSync(resolve('dist/commands/publish.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does).')
  project = mkdtempSync(join(tmpdir(), 'eventspine-cluster-cmd-'))
  url = await farNodeUrl(namespace)
  pipeline = await startPipeline({ url, namespace, projectDir: project })
})
afterAll(async () => {
  await pipeline?.stop()
  await deleteClusterNamespace(namespace)
  rmSync(project, { recursive: true, force: true })
})

describe('every command on a Redis Cluster', () => {
  it('publish, publish --wait, trace, status, dlq list, replay and reconcile', async () => {
    const published = await cli(['publish', inbox('atlas-nav-11-24-2026.csv')])
    expect(published.code, published.stderr).toBe(0)
    const waited = await cli(['publish', '--wait', inbox('lumen-nav-24112026.csv')])
    expect(waited.code, waited.stdout + waited.stderr).toBe(0)
    expect(waited.stdout).toMatch(/lumen-nav-24112026\.csv {2}delivered -> \S+\.json\n$/)

    await waitFor(async () => (await cli(['trace', inbox('atlas-nav-11-24-2026.csv')])).stdout.includes('pipeline.file.delivered'), { what: 'the first file delivered' })
    const trace = await cli(['trace', inbox('atlas-nav-11-24-2026.csv')])
    expect(trace.code).toBe(0)
    expect(trace.stdout).toMatch(/pipeline\.file\.delivered {2}deliver /)

    const status = await cli(['status', '--json'])
    expect(status.code, status.stderr).toBe(0)
    const { stages } = JSON.parse(status.stdout) as { stages: { stage: string; handled: number }[] }
    expect(stages.find((s) => s.stage === 'deliver')?.handled).toBeGreaterThanOrEqual(4)

    const dlq = await cli(['dlq', 'list'])
    expect(dlq.code).toBe(0)
    expect(dlq.stdout).toContain('No dead letters.')

    const replay = await cli(['replay', '--consumer', 'nav-latest', '--since', '24h'])
    expect(replay.code, replay.stderr).toBe(0)
    expect(replay.stdout).toMatch(/2 events read, 2 applied/)

    const reconcile = await cli(['reconcile'])
    expect(reconcile.code, reconcile.stdout).toBe(0)
    expect(reconcile.stdout).toContain('Everything adds up.')
  })

  it('tail --since shows the namespace\'s events', async () => {
    const child = spawn(process.execPath, [BIN, 'tail', '--since', '1h', '--type', 'pipeline.file.delivered'], { cwd: project, env: bareEnv(project, { PIPELINE_REDIS_URL: url, PIPELINE_NAMESPACE: namespace }) })
    let stdout = ''
    child.stdout.on('data', (chunk: Buffer) => void (stdout += chunk.toString()))
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)))
    await cli(['publish', '--wait', inbox('atlas-nav-11-25-2026.csv')])
    await waitFor(() => stdout.includes('atlas-nav-11-25-2026.csv'), { what: 'tail to show the delivery' })
    child.kill('SIGINT')
    expect(await exited).toBe(0)
    expect(stdout).toMatch(/pipeline\.file\.delivered .*fileName=atlas-nav-11-25-2026\.csv/)
  })

  it('load of a generated day has 0 mismatches, and clean finds nothing left behind', async () => {
    const load = await cli(['load', '--events-per-day', '2000', '--seed', '7', '--json'])
    expect(load.code, load.stderr).toBe(0)
    expect(JSON.parse(load.stdout)).toMatchObject({ mismatches: 0 })
    const clean = await cli(['clean', '--json'])
    expect(clean.code, clean.stderr).toBe(0)
    expect(JSON.parse(clean.stdout)).toMatchObject({ namespaces: [] })
  })

  it('fuzz holds its properties on the cluster', async () => {
    const run = await cli(['fuzz', '--consumer', 'nav-latest', '--runs', '5'], { PIPELINE_REDIS_URL: testClusterUrl() })
    expect(run.code, run.stdout + run.stderr).toBe(0)
    expect(run.stdout).toMatch(/5\/5 properties hold/)
  })

  it('doctor --json shows the nodes, the slot coverage and cluster_state', async () => {
    for (const target of [url, testClusterUrl()]) {
      const run = await cli(['doctor', '--json'], { PIPELINE_REDIS_URL: target })
      expect(run.code, run.stdout).toBe(0)
      const { redis } = JSON.parse(run.stdout) as { redis: { reachable: boolean; cluster: { state: string; slots: { covered: number; missing: string }; nodes: { role: string; slots: string }[] } } }
      expect(redis.reachable).toBe(true)
      expect(redis.cluster.state).toBe('ok')
      expect(redis.cluster.slots).toEqual({ covered: 16384, total: 16384, missing: '' })
      expect(redis.cluster.nodes.filter((n) => n.role === 'master').map((n) => n.slots)).toEqual(expect.arrayContaining([expect.stringMatching(/^\d+-\d+$/)]))
    }
    const human = await cli(['doctor'])
    expect(human.stdout).toMatch(/Redis Cluster: cluster_state:ok, slots 16384 of 16384 covered/)
    expect(human.stdout).toMatch(/127\.0\.0\.1:\d+ +master +slots \d+-\d+/)
  })
})
