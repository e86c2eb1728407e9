// The web console with 100,000 files retained: its first paint, a file's journey page, and a
// search by file name, in Debian's headless chromium, each beside a baseline timed in the same
// run (chromium painting a one-line page from the same server): only the ratios compare across
// machines and loads.
//
//   npm run bench:console                    # 100,000 files, 11 rounds, a table
//   npm run bench:console -- --files 20000   # a quick look
//   npm run bench:console -- --json          # figures as JSON on stdout, progress on stderr
//
// The fill runs server-side (one Lua loop per block of files): per file the eight events of a
// delivered NAV file (causation chained), their correlation-index rows, and the file-journey
// record and name-index field, as publish.lua, commit.lua and the projection write them. Needs `npm run build` (the bundle).
import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { Redis } from 'ioredis'
import { chromium, type Browser } from 'playwright-core'
import { createBus, permissiveContracts } from '../src/bus/index.js'
import { FigureCollector } from '../src/pipeline/host/collect.js'
import { startHttp } from '../src/pipeline/host/http.js'
import type { RuntimeSnapshot } from '../src/pipeline/host/figures.js'
import { metricsRegistry } from '../src/pipeline/host/prometheus.js'
import { builtinSource, listingHost } from '../src/pipeline/source.js'
import { startBenchRedis } from './support/redis.js'

const STAGES = ['received', 'ingested', 'mapped', 'validated', 'enriched', 'resolved', 'scored', 'delivered'].map((s) => `pipeline.file.${s}`)
const SOURCES = ['eventspine@bench', 'ingest', 'map', 'validate', 'enrich', 'resolve', 'score', 'deliver']
const BLOCK = 2_000
const NAMESPACE = 'bench-console'

// KEYS: none (names from ARGV[1] = key prefix). ARGV: prefix, first file, files. Returns events appended.
const FILL = `
local prefix, first, files = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local stages = { ${STAGES.map((s) => `'${s}'`).join(', ')} }
local sources = { ${SOURCES.map((s) => `'${s}'`).join(', ')} }
local n = 0
for f = first, first + files - 1 do
  local corr = string.format('0190c0de-0000-7000-8000-%012d', f)
  local cause = ''
  for s = 1, #stages do
    local id = string.format('0190c0de-%04d-7000-8000-%012d', s, f)
    local entry = redis.call('XADD', prefix .. 'stream:' .. stages[s], '*', 'id', id, 'type', stages[s], 'version', '1', 'source', sources[s],
      'occurredAt', '2026-11-25T10:00:00.000Z', 'correlationId', corr, 'causationId', cause,
      'key', corr, 'payload', '{"fileName":"nav-' .. f .. '.csv","kind":"nav","provider":"northwind","rowCount":120}')
    redis.call('RPUSH', prefix .. 'corr:' .. corr, stages[s] .. ' ' .. entry)
    cause = id
    n = n + 1
  end
  redis.call('HSET', prefix .. 'state:file-journey:names', 'nav-' .. f .. '.csv ' .. corr, corr)
  redis.call('SET', prefix .. 'state:file-journey:file:' .. corr, '{"fileName":"nav-' .. f .. '.csv","kind":"nav","status":"delivered","lastType":"pipeline.file.delivered","updatedAt":"2026-11-25T10:00:00.000Z","steps":[]}')
end
return n`

const { values } = parseArgs({ options: { files: { type: 'string', default: '100000' }, rounds: { type: 'string', default: '11' }, json: { type: 'boolean', default: false } } })
const files = Number(values.files)
const rounds = Number(values.rounds)
const log = (line: string) => void process.stderr.write(`${line}\n`)
const corrId = (file: number) => `0190c0de-0000-7000-8000-${String(file).padStart(12, '0')}`
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN

const redis = await startBenchRedis()
const bus = await createBus({ url: redis.url, namespace: NAMESPACE, contracts: permissiveContracts })
let browser: Browser | undefined
let http: Awaited<ReturnType<typeof startHttp>> | undefined
try {
  const fillStart = performance.now()
  const raw = new Redis(redis.url)
  for (let first = 0; first < files; first += BLOCK) await raw.eval(FILL, 0, bus.keys.prefix, first, Math.min(BLOCK, files - first))
  raw.disconnect()
  log(`filled ${files.toLocaleString('en-US')} files (${(files * STAGES.length).toLocaleString('en-US')} events) in ${((performance.now() - fillStart) / 1000).toFixed(1)} s`)

  const source = builtinSource()
  const consumers = source.consumers(listingHost())
  const stages = await new FigureCollector(bus, () => consumers, () => []).collect()
  const snapshot: RuntimeSnapshot = { at: new Date().toISOString(), pid: process.pid, namespace: NAMESPACE, redis: redis.url, inbox: null, outDir: '', http: null, stages, recent: [], warnings: [] }
  http = await startHttp({
    bus,
    port: 0,
    metrics: metricsRegistry({ status: async () => [], runners: () => [] }),
    consumers: () => [],
    console: { bus, source, consumers: () => consumers, snapshot: () => snapshot, onSnapshot: () => () => {} },
  })
  const url = http.consoleUrl as string
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] })

  /** Milliseconds from navigation start until `selector` is in the page, in a fresh context (cold cache). */
  const timeTo = async (target: string, selector: string): Promise<{ ready: number; fcp: number }> => {
    // bypassCSP: the console's CSP (rightly) refuses the script playwright injects to watch for the selector.
    const context = await (browser as Browser).newContext({ bypassCSP: true })
    const page = await context.newPage()
    await page.goto(target)
    // Read in the page, on the frame the selector first matches: no round trip to this process in the figure.
    const ready = (await (
      await page.waitForFunction((sel) => ((globalThis as unknown as { document: { querySelector(s: string): unknown } }).document.querySelector(sel) ? performance.now() : 0), selector, { polling: 'raf' })
    ).jsonValue()) as number
    const fcp = (await page.evaluate('performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? NaN')) as number
    await context.close()
    return { ready, fcp }
  }
  const figures: Record<string, { ready: number[]; fcp: number[] }> = { baseline: { ready: [], fcp: [] }, graph: { ready: [], fcp: [] }, journey: { ready: [], fcp: [] }, search: { ready: [], fcp: [] } }
  const base = http.url
  for (let r = 0; r < rounds; r++) {
    const file = Math.floor((r + 0.5) * (files / rounds))
    // Alternate the order so no page always runs first on a cold or last on a tired machine.
    const runs: [string, () => Promise<{ ready: number; fcp: number }>][] = [
      ['baseline', () => timeTo(`${base}/health`, 'body')],
      ['graph', () => timeTo(url, 'svg.graph a.node.consumer')],
      ['journey', () => timeTo(`${url}#/file/${corrId(file)}`, 'table.hops tr.hop[data-type="pipeline.file.delivered"]')],
      ['search', () => timeTo(`${url}#/search/nav-${file}.csv`, 'table.hits tbody tr')],
    ]
    if (r % 2 === 1) runs.reverse()
    for (const [name, run] of runs) {
      const t = await run()
      figures[name]?.ready.push(t.ready)
      figures[name]?.fcp.push(t.fcp)
    }
    log(`round ${r + 1}/${rounds}`)
  }
  // The API alone, from this process: how much of the journey and search pages is the server.
  const api: Record<string, number[]> = { journey: [], search: [] }
  for (let r = 0; r < rounds * 5; r++) {
    const file = Math.floor(((r * 7919) % (rounds * 5) + 0.5) * (files / (rounds * 5)))
    for (const [name, path] of [['journey', `/api/files/${corrId(file)}`], ['search', `/api/search?q=nav-${file}.csv`]] as const) {
      const t0 = performance.now()
      await (await fetch(`${base}${path}`)).json()
      api[name]?.push(performance.now() - t0)
    }
  }
  const base50 = median(figures.baseline?.ready ?? [])
  const table = Object.entries(figures).map(([name, f]) => ({ page: name, firstPaintMs: Math.round(median(f.fcp)), readyMs: Math.round(median(f.ready)), readyVsBaseline: Math.round((median(f.ready) / base50) * 10) / 10 }))
  const apiMs = Object.fromEntries(Object.entries(api).map(([k, v]) => [k, Math.round(median(v) * 10) / 10]))
  const out = { files, rounds, loadAverage: loadavg().map((l) => Math.round(l * 100) / 100), pages: table, apiMs }
  if (values.json) process.stdout.write(`${JSON.stringify(out)}\n`)
  else {
    console.log(`console with ${files.toLocaleString('en-US')} files retained, medians of ${rounds} rounds (load average ${out.loadAverage.join(' ')})`)
    console.log('page       first paint   ready (what the page is for is shown)   ready / baseline')
    for (const row of table) console.log(`${row.page.padEnd(10)} ${`${row.firstPaintMs} ms`.padStart(11)}   ${`${row.readyMs} ms`.padStart(10)}${' '.repeat(28)}${`${row.readyVsBaseline}x`.padStart(8)}`)
    console.log(`API alone (median of ${rounds * 5}): /api/files/:id ${apiMs.journey} ms, /api/search by file name ${apiMs.search} ms`)
  }
} finally {
  await browser?.close()
  await http?.close()
  await bus.close()
  await redis.stop()
}
