// The self-contained pages in headless chromium: `load --report` (charts, gates, mismatches) and
// `trace --html` (one file's waterfall), opened from file:// with the network unused, and the
// embedded data escaped against `</script>`.
import { randomBytes } from 'node:crypto'
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Redis } from 'ioredis'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { staticPage, writeTracePage } from '../../src/pipeline/console/page.js'
import { startPipeline, type Intake } from '../../src/pipeline/host/index.js'
import { traceFile } from '../../src/pipeline/inspect/session.js'
import type { Trace } from '../../src/pipeline/inspect/trace.js'
import { packageRoot } from '../../src/pipeline/paths.js'
import { parseGate } from '../../src/sim/gates.js'
import { loadTest } from '../../src/sim/load-test.js'
import type { LoadReportData } from '../../src/sim/report.js'
import { ARTIFACTS, buildConsole, launchBrowser } from '../support/browser.js'
import { waitFor } from '../support/bus.js'
import { testRedisUrl } from '../support/namespace.js'

const work = mkdtempSync(join(tmpdir(), 'eventspine-pages-'))
let browser: Browser

/** Opens a page from disk and records every request that is not the file itself. */
async function open(path: string): Promise<{ page: Page; requests: string[]; alerts: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1300, height: 900 } })
  const requests: string[] = []
  const alerts: string[] = []
  page.on('request', (r) => {
    if (r.url() !== pathToFileURL(path).href) requests.push(r.url())
  })
  page.on('dialog', (d) => {
    alerts.push(d.message())
    void d.dismiss()
  })
  await page.goto(pathToFileURL(path).href)
  return { page, requests, alerts }
}

beforeAll(async () => {
  buildConsole()
  browser = await launchBrowser()
})
afterAll(async () => {
  await browser?.close()
  rmSync(work, { recursive: true, force: true })
})

describe('self-contained HTML pages', () => {
  it('load --report: latency histogram and p50/p99 over time, stage lag and pending, gates and mismatches, no network', async () => {
    const path = join(work, 'report.html')
    const result = await loadTest({
      redisUrl: testRedisUrl(),
      generate: { eventsPerDay: 400, date: '2026-11-20', seed: 21, faults: 0.25 },
      speed: 'max',
      maxInFlight: 32,
      gates: [parseGate('mismatches=0'), parseGate('missing=0')],
      keep: false,
      progress: false,
      report: path,
    })
    const html = readFileSync(path, 'utf8')
    const data = (JSON.parse(/<script type="application\/json" id="eventspine-data">([^<]*)<\/script>/.exec(html)?.[1] ?? 'null') as { data: LoadReportData }).data
    expect(data.summary.files).toBe(result.files)
    expect(data.series.latency.files.reduce((a, n) => a + n, 0)).toBe(result.latencyMs.count)
    expect(data.series.histogram.counts.reduce((a, n) => a + n, 0)).toBe(result.latencyMs.count)
    expect(data.series.stages.names).toEqual(expect.arrayContaining(['ingest', 'deliver']))
    expect(data.series.stages.t.length).toBeGreaterThan(0)

    const { page, requests, alerts } = await open(path)
    await page.waitForSelector('figure.chart canvas')
    expect(await page.$$eval('figure.chart', (charts) => charts.map((c) => c.querySelector('.u-title')?.textContent))).toEqual([
      'Files per latency bucket',
      'File latency over time (by when files ended)',
      'Lag per stage (entries not yet delivered)',
      'Pending per stage (delivered, not yet acknowledged)',
    ])
    expect(await page.textContent('table.gates')).toContain('mismatches=0')
    expect(await page.textContent('table.gates')).toContain('✔ pass')
    expect(await page.textContent('main')).toContain('None: every file ended as the manifest expects.')
    await page.screenshot({ path: join(ARTIFACTS, 'load-report.png'), fullPage: true })
    expect(requests).toEqual([])
    expect(alerts).toEqual([])
  })

  it('trace --html: the waterfall of one delivered file, hops in order', async () => {
    const namespace = `pages-${randomBytes(4).toString('hex')}`
    const project = join(work, 'project')
    const intakes: Intake[] = []
    const pipeline = await startPipeline({ url: testRedisUrl(), namespace, projectDir: project, stabilityMs: 100, clock: () => new Date('2026-11-25T18:00:00.000Z'), onIntake: (i) => void intakes.push(i) })
    try {
      copyFileSync(join(packageRoot(), 'fixtures', 'inbox', 'northwind-nav-2026-11-24.csv'), join(pipeline.inboxDir, 'northwind-nav-2026-11-24.csv'))
      const intake = await waitFor(() => intakes.find((i) => i.ok), { what: 'the file taken in' })
      await waitFor(() => pipeline.snapshot().recent.find((r) => r.correlationId === intake.correlationId), { what: 'the file delivered' })
      const trace = await traceFile({ url: testRedisUrl(), namespace, target: intake.correlationId })
      const path = join(work, 'trace.html')
      await writeTracePage(path, trace)
      const { page, requests } = await open(path)
      await page.waitForSelector('table.hops tr.hop')
      const hops = await page.$$eval('table.hops tr.hop.event', (rows) => rows.map((r) => r.getAttribute('data-type')))
      const order = ['pipeline.file.received', 'pipeline.file.ingested', 'pipeline.file.mapped', 'pipeline.file.validated', 'pipeline.file.delivered']
      expect(hops.filter((t) => order.includes(t ?? ''))).toEqual(order)
      await page.screenshot({ path: join(ARTIFACTS, 'trace-html.png'), fullPage: true })
      expect(requests).toEqual([])
    } finally {
      await pipeline.stop()
      const redis = new Redis(testRedisUrl())
      const keys = await redis.keys(`{${namespace}}:*`)
      if (keys.length > 0) await redis.unlink(...keys)
      redis.disconnect()
    }
  })

  it('data carrying </script> and markup stays data: shown as text, nothing runs', async () => {
    const evil = '</script><script>alert(1)</script><img src=x onerror=alert(2)>'
    const trace: Trace = {
      correlationId: 'c-1',
      fileName: evil,
      status: 'stuck',
      outcome: null,
      startedAt: '2026-11-25T10:00:00.000Z',
      lastAt: '2026-11-25T10:00:00.000Z',
      elapsedMs: 0,
      events: 1,
      deadLetters: 0,
      roots: [{ kind: 'event', type: 'x.happened', entryId: '1764064800000-0', id: 'e-1', source: evil, key: 'k', causationId: '', occurredAt: '2026-11-25T10:00:00.000Z', at: '2026-11-25T10:00:00.000Z', latencyMs: null, summary: `fileName=${evil}`, reasons: [], trimmed: false, children: [] }],
      awaited: [],
    }
    const html = staticPage({ kind: 'trace', data: trace }, evil)
    expect(html).not.toContain('</script><script>alert(1)')
    const path = join(work, 'evil.html')
    writeFileSync(path, html)
    const { page, alerts } = await open(path)
    await page.waitForSelector('table.hops tr.hop')
    expect(await page.textContent('h1')).toBe(evil)
    expect(await page.$$('main img')).toHaveLength(0)
    expect(alerts).toEqual([])
  })
})
