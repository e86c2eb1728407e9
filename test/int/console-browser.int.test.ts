// The web console in a real browser (Debian's headless chromium through playwright-core): the
// five checks of issue 26, each a test, against `up`'s host running the fund pipeline and a
// team's own consumer. Screenshots go to test-artifacts/console/.
import { randomBytes } from 'node:crypto'
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defineConsumer, PoisonError } from '../../src/bus/index.js'
import { startPipeline, type Intake, type PipelineHandle } from '../../src/pipeline/host/index.js'
import { packageRoot } from '../../src/pipeline/paths.js'
import { builtinSource, type PipelineSource } from '../../src/pipeline/source.js'
import { ARTIFACTS, buildConsole, launchBrowser } from '../support/browser.js'
import { waitFor } from '../support/bus.js'
import { testRedisUrl } from '../support/namespace.js'

const fixtures = join(packageRoot(), 'fixtures')
const namespace = `console-${randomBytes(4).toString('hex')}`
const XSS_NAME = '<img src=x onerror=alert(1)>.csv'
/** The team's own consumer refuses delivered files while broken: its dead letters are what the page replays. */
const audit = { broken: true }
const builtin = builtinSource()
const source: PipelineSource = {
  ...builtin,
  consumers: (host) => [
    ...builtin.consumers(host),
    defineConsumer({
      name: 'audit',
      subscribes: ['pipeline.file.delivered'],
      handle(event, ctx) {
        if (audit.broken) throw new PoisonError(`audit cannot read ${(event.payload as { fileName: string }).fileName}`)
        ctx.state.hincrby('audited', 'files', 1)
      },
    }),
  ],
}
let project: string
let pipeline: PipelineHandle
let browser: Browser
let page: Page
const intakes: Intake[] = []
const dialogs: string[] = []

async function take(dir: string, name: string, as = name): Promise<string> {
  copyFileSync(join(fixtures, dir, name), join(pipeline.inboxDir, as))
  const intake = await waitFor(() => intakes.find((i) => i.fileName === as), { what: `${as} taken in` })
  if (!intake.ok) throw new Error(intake.reason)
  return intake.correlationId
}

async function delivered(correlationId: string): Promise<void> {
  await waitFor(() => pipeline.snapshot().recent.find((r) => r.correlationId === correlationId && r.outcome === 'delivered'), { what: `${correlationId} delivered` })
}

function consoleUrl(hash = ''): string {
  const url = pipeline.http?.consoleUrl
  if (!url) throw new Error('no console URL')
  return `${url}${hash}`
}

beforeAll(async () => {
  buildConsole()
  project = mkdtempSync(join(tmpdir(), 'eventspine-console-'))
  pipeline = await startPipeline({
    url: testRedisUrl(),
    namespace,
    projectDir: project,
    source,
    httpPort: 0,
    stabilityMs: 100,
    clock: () => new Date('2026-11-25T18:00:00.000Z'),
    onIntake: (i) => void intakes.push(i),
  })
  browser = await launchBrowser()
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
  page.on('dialog', (d) => {
    dialogs.push(`${d.type()}: ${d.message()}`)
    // Confirmations of replay and purge are accepted; an alert would be the XSS test failing.
    void (d.type() === 'confirm' ? d.accept() : d.dismiss())
  })
})
afterAll(async () => {
  await browser?.close()
  await pipeline?.stop()
  const redis = new Redis(testRedisUrl())
  const keys = await redis.keys(`{${namespace}}:*`)
  if (keys.length > 0) await redis.unlink(...keys)
  redis.disconnect()
  rmSync(project, { recursive: true, force: true })
})

describe('the web console in headless chromium', () => {
  it('the graph lists every consumer, a team\'s own too', async () => {
    const names = source.consumers({ outDir: project, namespace, redisUrl: '', tmpDir: project }).map((c) => c.name)
    await page.goto(consoleUrl())
    // The token left the address bar (kept for the tab), so a screenshot or a shared link does not carry it.
    expect(new URL(page.url()).searchParams.has('token')).toBe(false)
    await page.waitForSelector('svg.graph a.node.consumer')
    // The figures arrive over SSE within a snapshot or two.
    await page.waitForSelector('text=no figures yet', { state: 'detached' })
    const listed = await page.$$eval('table.consumers tbody tr', (rows) => rows.map((r) => r.getAttribute('data-consumer')))
    const drawn = await page.$$eval('svg.graph a.node.consumer', (nodes) => nodes.map((n) => n.getAttribute('data-consumer')))
    expect(listed.sort()).toEqual([...names].sort())
    expect(drawn.sort()).toEqual([...names].sort())
    await page.screenshot({ path: join(ARTIFACTS, 'graph.png'), fullPage: true })
  })

  it("a delivered file's waterfall shows its hops in order", async () => {
    const id = await take('inbox', 'northwind-nav-2026-11-24.csv')
    await delivered(id)
    await page.goto(consoleUrl(`#/file/${id}`))
    await page.waitForSelector('table.hops tr.hop')
    const hops = await page.$$eval('table.hops tr.hop.event', (rows) => rows.map((r) => r.getAttribute('data-type')))
    const order = ['pipeline.file.received', 'pipeline.file.ingested', 'pipeline.file.mapped', 'pipeline.file.validated', 'pipeline.file.delivered']
    expect(hops.filter((t) => order.includes(t ?? ''))).toEqual(order)
    expect(await page.textContent('h1')).toBe('northwind-nav-2026-11-24.csv')
    await page.screenshot({ path: join(ARTIFACTS, 'waterfall.png'), fullPage: true })
  })

  it('a dead letter can be replayed from the page, and disappears', async () => {
    // The file of the previous test reached audit while it was broken.
    await waitFor(async () => (await pipeline.bus.redis.xlen(pipeline.bus.keys.deadLetters('audit'))) > 0, { what: 'a dead letter of audit' })
    const before = await pipeline.bus.redis.xlen(pipeline.bus.keys.deadLetters('audit'))
    await page.goto(consoleUrl('#/dlq/audit'))
    await page.waitForSelector('table.dead-letters tbody tr[data-dead-letter]')
    await page.screenshot({ path: join(ARTIFACTS, 'dead-letters.png'), fullPage: true })
    audit.broken = false
    const first = await page.getAttribute('table.dead-letters tbody tr[data-dead-letter]', 'data-dead-letter')
    await page.click(`tr[data-dead-letter="${first}"] >> text=Replay`)
    await page.waitForSelector(`tr[data-dead-letter="${first}"]`, { state: 'detached' })
    expect(await page.textContent('[role=status]')).toContain('1 delivered')
    expect(dialogs.some((d) => d.startsWith('confirm: Replay dead letter'))).toBe(true)
    expect(await pipeline.bus.redis.xlen(pipeline.bus.keys.deadLetters('audit'))).toBe(before - 1)
    expect(await pipeline.bus.redis.hget(pipeline.bus.keys.state('audit', 'audited'), 'files')).toBe('1')
  })

  it('a file named <img src=x onerror=alert(1)>.csv shows as text', async () => {
    const id = await take('inbox', 'atlas-nav-11-24-2026.csv', XSS_NAME)
    await waitFor(() => pipeline.snapshot().recent.find((r) => r.correlationId === id), { what: 'the file ended' })
    await page.goto(consoleUrl(`#/search/${encodeURIComponent('onerror')}`))
    await page.waitForSelector('table.hits tbody tr')
    expect(await page.textContent('table.hits tbody tr a')).toBe(XSS_NAME)
    await page.click('table.hits tbody tr a')
    await page.waitForSelector('table.hops tr.hop')
    expect(await page.textContent('h1')).toBe(XSS_NAME)
    await page.goto(consoleUrl())
    await page.waitForSelector('table.recent')
    expect(await page.textContent('table.recent')).toContain(XSS_NAME)
    await page.screenshot({ path: join(ARTIFACTS, 'xss-as-text.png'), fullPage: true })
    expect(await page.$$('main img')).toHaveLength(0)
    expect(dialogs.filter((d) => d.startsWith('alert'))).toEqual([])
  })

  it('search pages server-side: a part of a correlation id, a file name, an ISIN', async () => {
    const base = pipeline.http?.url as string
    const search = async (q: string, cursor?: string) => (await (await fetch(`${base}/api/search?${new URLSearchParams({ q, ...(cursor ? { cursor } : {}) })}`)).json()) as { hits: { correlationId: string; fileName: string; matched: string }[]; cursor: string | null }
    const file = pipeline.snapshot().recent.find((r) => r.fileName === 'northwind-nav-2026-11-24.csv')
    if (!file) throw new Error('the northwind file of the waterfall test is not among the recent files')
    expect((await search(file.correlationId.slice(-8))).hits).toEqual([expect.objectContaining({ correlationId: file.correlationId, matched: 'correlation id', fileName: file.fileName })])
    expect((await search('NORTHWIND-nav')).hits.map((h) => h.correlationId)).toEqual([file.correlationId])
    const byIsin = await waitFor(async () => (await search('LU1842936517')).hits.find((h) => h.matched === 'ISIN'), { what: 'the ISIN found through nav-latest' })
    expect(byIsin.correlationId).toBe(file.correlationId)
    // Following the cursor to its end finds both CSV files taken in so far, once each.
    const all = new Set<string>()
    for (let page: { hits: { correlationId: string }[]; cursor: string | null } | null = null; page === null || page.cursor !== null; ) {
      page = await search('.csv', page?.cursor ?? undefined)
      for (const h of page.hits) all.add(h.correlationId)
    }
    expect(all.size).toBe(2)
  })

  it('a POST without the token is refused, and so is a foreign Host', async () => {
    const base = pipeline.http?.url as string
    await page.goto(consoleUrl())
    // From the console's own page but without the header: refused, nothing purged.
    const status = await page.evaluate(async () => (await fetch('/api/dlq/purge', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ consumer: 'audit' }) })).status)
    expect(status).toBe(403)
    const wrong = await fetch(`${base}/api/dlq/purge`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-eventspine-token': 'guess' }, body: '{"consumer":"audit"}' })
    expect(wrong.status).toBe(403)
    // A page of another origin that would get the token right is still refused by its Origin.
    const token = new URL(consoleUrl()).searchParams.get('token') as string
    const foreign = await fetch(`${base}/api/dlq/purge`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-eventspine-token': token, origin: 'http://evil.example' }, body: '{"consumer":"audit"}' })
    expect(foreign.status).toBe(403)
    // DNS rebinding: the right address under a foreign name.
    const { request } = await import('node:http')
    const rebound = await new Promise<number>((resolve, reject) => {
      const u = new URL(base)
      request({ host: u.hostname, port: u.port, path: '/api/graph', headers: { host: `evil.example:${u.port}` } }, (res) => resolve(res.statusCode ?? 0)).on('error', reject).end()
    })
    expect(rebound).toBe(421)
    const headers = (await fetch(consoleUrl())).headers
    expect(headers.get('content-security-policy')).toContain("default-src 'none'")
    expect(headers.get('x-frame-options')).toBe('DENY')
  })

  it("another site's page cannot make the console work for it, and a malformed request is a 400, not a 500", async () => {
    const base = pipeline.http?.url as string
    // What a browser sends for <img src="http://127.0.0.1:PORT/api/search?q=a"> on another site.
    expect((await fetch(`${base}/api/search?q=a`, { headers: { 'sec-fetch-site': 'cross-site' } })).status).toBe(403)
    expect((await fetch(`${base}/api/graph`, { headers: { origin: 'http://evil.example' } })).status).toBe(403)
    // The console's own page reads as before.
    await page.goto(consoleUrl())
    expect(await page.evaluate(async () => (await fetch('/api/graph')).status)).toBe(200)
    for (const path of ['/api/files/%E0', '/api/search?q=a&cursor=keys:0%20x', '/api/dlq/audit?cursor=nope', '/api/streams/no.such.stream']) {
      const r = await fetch(`${base}${path}`)
      expect(r.status, path).toBe(400)
      expect((await r.json()) as { error: string }).toMatchObject({ error: 'E_CONSOLE_REQUEST' })
    }
  })
})
