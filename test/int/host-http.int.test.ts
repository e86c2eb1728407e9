import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { prometheusContentType } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startPipeline, type Intake, type PipelineHandle } from '../../src/pipeline/host/index.js'
import { packageRoot } from '../../src/pipeline/paths.js'
import { waitFor } from '../support/bus.js'
import { testRedisUrl } from '../support/namespace.js'

const fixtures = join(packageRoot(), 'fixtures')
let project: string
let pipeline: PipelineHandle
const intakes: Intake[] = []
const namespace = `http-${randomBytes(4).toString('hex')}`

async function get(path: string): Promise<{ status: number; type: string; text: string }> {
  const res = await fetch(`${pipeline.http?.url}${path}`)
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() }
}

/** /metrics once deliver's latency from the file of the journey test is there (figures refresh every second). */
async function deliverLatency(): Promise<{ status: number; type: string; text: string }> {
  return waitFor(async () => {
    const r = await get('/metrics')
    return /eventspine_stage_latency_seconds\{consumer="deliver",quantile="0.5"\} \d/.test(r.text) ? r : null
  }, { what: 'deliver latency on /metrics' })
}

async function take(dir: string, name: string): Promise<string> {
  copyFileSync(join(fixtures, dir, name), join(pipeline.inboxDir, name))
  const intake = await waitFor(() => intakes.find((i) => i.fileName === name), { what: `${name} taken in` })
  if (!intake.ok) throw new Error(intake.reason)
  return intake.correlationId
}

beforeAll(async () => {
  project = mkdtempSync(join(tmpdir(), 'eventspine-http-'))
  pipeline = await startPipeline({
    url: testRedisUrl(),
    namespace,
    projectDir: project,
    httpPort: 0,
    stabilityMs: 100,
    clock: () => new Date('2026-11-25T18:00:00.000Z'),
    onIntake: (i) => void intakes.push(i),
  })
})
afterAll(async () => {
  await pipeline.stop()
  const redis = new Redis(testRedisUrl())
  const keys = await redis.keys(`{${namespace}}:*`)
  if (keys.length > 0) await redis.unlink(...keys)
  redis.disconnect()
  rmSync(project, { recursive: true, force: true })
})

describe('the loopback HTTP API', () => {
  it('listens on loopback on the port asked for (0 = any)', () => {
    expect(pipeline.http?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
  })

  it('GET /health: redis up and every consumer running', async () => {
    const res = await get('/health')
    expect(res.status).toBe(200)
    const body = JSON.parse(res.text) as { status: string; redis: string; consumers: { name: string; running: boolean }[] }
    expect(body.status).toBe('ok')
    expect(body.redis).toBe('up')
    expect(body.consumers).toHaveLength(9)
    expect(body.consumers.every((c) => c.running)).toBe(true)
  })

  it('GET /files/:id?wait= answers once the file has ended (one request), 400 for a bad wait, 404 after waiting for an unknown id', async () => {
    const id = await take('faulty', 'northwind-nav-bad-isin.csv')
    const res = await get(`/files/${id}?wait=30s`)
    expect(res.status).toBe(200)
    const body = JSON.parse(res.text) as { journey: { status: string; reasons: { rule: string; row?: number }[] }; events: { type: string }[] }
    expect(body.journey.status).toBe('rejected')
    expect(body.journey.reasons[0]?.rule).toBeTruthy()
    expect(body.events.map((e) => e.type)).toContain('pipeline.file.rejected')
    expect((await get(`/files/${id}?wait=soon`)).status).toBe(400)
    expect((await get('/files/019ab5c2-7d1e-7000-8000-00000000beef?wait=300ms')).status).toBe(404)
  })

  it('GET /files/:id gives the journey and events of a delivered file; GET /funds/:isin its latest NAV', async () => {
    const id = await take('inbox', 'northwind-nav-2026-11-24.csv')
    const file = await waitFor(async () => {
      const res = await get(`/files/${id}`)
      const body = res.status === 200 ? (JSON.parse(res.text) as Record<string, any>) : null
      return body?.['journey']?.status === 'delivered' ? body : null
    }, { what: 'the file delivered' })
    expect(file['correlationId']).toBe(id)
    expect(file['journey'].fileName).toBe('northwind-nav-2026-11-24.csv')
    const types = (file['events'] as { type: string }[]).map((e) => e.type)
    expect(types).toEqual(expect.arrayContaining(['pipeline.file.received', 'pipeline.file.ingested', 'pipeline.file.validated', 'pipeline.file.delivered']))
    expect(JSON.stringify(file)).not.toContain('contentBase64')

    // nav-latest commits on its own time: wait for it, then ask in either case.
    const nav = await waitFor(async () => {
      const res = await get('/funds/LU1842936517')
      return res.status === 200 ? (JSON.parse(res.text) as Record<string, unknown>) : null
    }, { what: 'the latest NAV' })
    expect(nav).toMatchObject({ isin: 'LU1842936517', nav: 148.2731, currency: 'EUR', navDate: '2026-11-24', correlationId: id })
    expect((await get('/funds/lu1842936517')).status).toBe(200)
  })

  it('GET /metrics: Prometheus text from prom-client, HELP and TYPE before every family', async () => {
    const res = await deliverLatency()
    expect(res.status).toBe(200)
    expect(res.type).toBe(prometheusContentType)
    const lines = res.text.trimEnd().split('\n')
    for (const [family, type] of [
      ['eventspine_consumer_handled_total', 'counter'],
      ['eventspine_consumer_retries_total', 'counter'],
      ['eventspine_consumer_dead_lettered_total', 'counter'],
      ['eventspine_consumer_lag', 'gauge'],
      ['eventspine_consumer_pending', 'gauge'],
      ['eventspine_stage_latency_seconds', 'summary'],
    ]) {
      const help = lines.indexOf(lines.find((l) => l.startsWith(`# HELP ${family} `)) ?? '')
      expect(help, family).toBeGreaterThanOrEqual(0)
      expect(lines[help + 1]).toBe(`# TYPE ${family} ${type}`)
    }
    for (const line of lines.filter((l) => l !== '' && !l.startsWith('#'))) {
      expect(line).toMatch(/^[a-z_]+\{consumer="[a-z-]+"(,quantile="0\.\d+")?\} (\d+(\.\d+)?(e-?\d+)?|Nan)$/)
    }
    expect(res.text).toMatch(/eventspine_stage_latency_seconds\{consumer="deliver",quantile="0.99"\} \d/)
  })

  it('GET /metrics passes `promtool check metrics` without a complaint', async () => {
    const { text } = await deliverLatency()
    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })
    if ((promtool.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
      throw new Error('promtool is not installed: install the `prometheus` package (apt-get install prometheus), which ships /usr/bin/promtool')
    }
    expect(promtool.error).toBeUndefined()
    // Lint problems are printed, errors also exit non-zero: any output is a failure.
    expect(`${promtool.stdout}${promtool.stderr}`).toBe('')
    expect(promtool.status).toBe(0)
  })

  it('404 JSON for an unknown file, an unknown ISIN and an unknown path', async () => {
    for (const path of ['/files/019ab5c2-7d1e-7000-8000-000000000000', '/funds/XS0000000009', '/nope']) {
      const res = await get(path)
      expect(res.status, path).toBe(404)
      expect(res.type).toContain('application/json')
      expect(JSON.parse(res.text)).toHaveProperty('error')
    }
  })
})
