import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import { deleteNamespaces } from '../../src/bus/scratch.js'
import { startPipeline, type PipelineHandle } from '../../src/pipeline/host/index.js'
import { bareEnv, runCli } from '../support/cli.js'
import { testNamespace, testRedisUrl } from '../support/namespace.js'

// `publish --wait` as a script uses it: read-your-writes against a running pipeline.
let project: string
let pipeline: PipelineHandle
let namespace: string

beforeAll(async () => {
  if (!existsSync(resolve('dist/commands/publish.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does).')
  project = mkdtempSync(join(tmpdir(), 'eventspine-publish-wait-'))
  namespace = `publish-wait-${process.pid}`
  pipeline = await startPipeline({ url: testRedisUrl(), namespace, projectDir: project, clock: () => new Date('2026-11-25T18:00:00.000Z') })
})
afterAll(async () => {
  await pipeline?.stop()
  const redis = new Redis(testRedisUrl())
  await deleteNamespaces(redis, namespace)
  redis.disconnect()
  rmSync(project, { recursive: true, force: true })
})

describe('pipeline publish --wait', () => {
  it('prints each ending (delivered with its path, rejected with stage, rule and row, duplicate of which) and exits 1 for the rejection', async () => {
    const good = resolve('fixtures/inbox/northwind-nav-2026-11-24.csv')
    const bad = resolve('fixtures/faulty/northwind-nav-bad-isin.csv')
    const run = await runCli(['publish', '--wait', good, bad, good], { cwd: project, env: bareEnv(project, { PIPELINE_REDIS_URL: testRedisUrl(), PIPELINE_NAMESPACE: namespace }) })
    expect(run.code, run.stdout + run.stderr).toBe(1)
    // One line per file.
    const lines = run.stdout.trim().split('\n')
    expect(lines, run.stdout).toHaveLength(3)
    const delivered = lines.filter((l) => / {2}delivered -> /.test(l))
    expect(delivered, run.stdout).toHaveLength(1)
    expect(delivered[0]).toMatch(/^\S+ {2}\S*northwind-nav-2026-11-24\.csv {2}delivered -> \S+\.json$/)
    const firstId = delivered[0]?.split(' ')[0] as string
    expect(lines.filter((l) => / {2}rejected at /.test(l))[0]).toMatch(/^\S+ {2}\S*northwind-nav-bad-isin\.csv {2}rejected at validate: [a-z-]+ row \d+ column \w+ \(value "[^"]*"\): .+/)
    expect(lines.filter((l) => / {2}duplicate of /.test(l))[0]).toMatch(new RegExp(`^\\S+ {2}\\S*northwind-nav-2026-11-24\\.csv {2}duplicate of ${firstId}$`))

    const json = await runCli(['publish', '--wait', '--json', good], { cwd: project, env: bareEnv(project, { PIPELINE_REDIS_URL: testRedisUrl(), PIPELINE_NAMESPACE: namespace }) })
    expect(json.code).toBe(0)
    expect(JSON.parse(json.stdout)).toMatchObject({ files: [{ ending: { outcome: 'duplicate', firstCorrelationId: firstId } }] })
  })

  it('a file with no pipeline to end it times out: exit 1 and says so', async () => {
    const idle = testNamespace('publish-idle')
    const run = await runCli(['publish', '--wait', '--timeout', '1s', resolve('fixtures/inbox/northwind-nav-2026-11-24.csv')], { cwd: project, env: bareEnv(project, { PIPELINE_REDIS_URL: testRedisUrl(), PIPELINE_NAMESPACE: idle }) })
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(/northwind-nav-2026-11-24\.csv {2}no ending within 1s \(timed out\)\n$/)
  })
})
