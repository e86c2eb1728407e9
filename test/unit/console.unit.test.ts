import { describe, expect, it } from 'vitest'
import { pipelineGraph } from '../../src/pipeline/console/graph.js'
import { crossSiteRequest, loopbackHost } from '../../src/pipeline/console/guard.js'
import type { IncomingMessage } from 'node:http'
import { embedJson } from '../../src/pipeline/console/page.js'
import type { RuntimeSnapshot } from '../../src/pipeline/host/figures.js'
import { ReportSeries } from '../../src/sim/report-series.js'

describe('the console, pure parts', () => {
  it('loopbackHost: loopback names on our port (or none), nothing else', () => {
    for (const ok of ['127.0.0.1:7878', 'localhost:7878', '[::1]:7878', 'LOCALHOST:7878', 'localhost']) expect(loopbackHost(ok, 7878)).toBe(true)
    for (const bad of [undefined, '', 'evil.example:7878', '127.0.0.1:7879', '127.0.0.1.nip.io:7878', 'localhost.evil.example', '[::1]:80', '0.0.0.0:7878']) expect(loopbackHost(bad, 7878)).toBe(false)
  })

  it('crossSiteRequest: another site by Sec-Fetch-Site or Origin; our own pages, a typed URL and tools without those headers pass', () => {
    const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage
    expect(crossSiteRequest(req({ 'sec-fetch-site': 'cross-site' }), 7878)).toBe(true)
    expect(crossSiteRequest(req({ 'sec-fetch-site': 'same-site' }), 7878)).toBe(true)
    expect(crossSiteRequest(req({ origin: 'http://evil.example' }), 7878)).toBe(true)
    expect(crossSiteRequest(req({ origin: 'http://127.0.0.1:9999' }), 7878)).toBe(true)
    expect(crossSiteRequest(req({ origin: 'not a url' }), 7878)).toBe(true)
    expect(crossSiteRequest(req({ 'sec-fetch-site': 'same-origin', origin: 'http://127.0.0.1:7878' }), 7878)).toBe(false)
    expect(crossSiteRequest(req({ 'sec-fetch-site': 'none' }), 7878)).toBe(false)
    expect(crossSiteRequest(req({}), 7878)).toBe(false)
  })

  it('embedJson: nothing that could end the script element or start markup, and JSON.parse gives the value back', () => {
    const value = { name: '</script><script>alert(1)</script>', more: '<!-- & -->', sep: '\u2028\u2029' }
    const text = embedJson(value)
    expect(text).not.toMatch(/[<>&\u2028\u2029]/)
    expect(JSON.parse(text)).toEqual(value)
  })

  it("pipelineGraph: every consumer with its figures, streams with who writes and who reads them (the host's intake too)", () => {
    const snapshot = { at: '2026-11-25T10:00:00.000Z', namespace: 'ns', stages: [{ stage: 'a', pending: 2 }], recent: [], warnings: [] } as unknown as RuntimeSnapshot
    const graph = pipelineGraph([{ name: 'a', subscribes: ['in'], emits: ['mid'] }, { name: 'b', subscribes: ['mid'] }], ['in'], snapshot)
    expect(graph.consumers.map((c) => [c.name, c.figures?.pending ?? null])).toEqual([['a', 2], ['b', null]])
    expect(graph.streams).toEqual([
      { type: 'in', producers: ['intake'], readers: ['a'] },
      { type: 'mid', producers: ['a'], readers: ['b'] },
    ])
  })

  it('ReportSeries: p50/p99 per bucket by when files ended, a histogram of every file, stage maxima per bucket', () => {
    let now = 1_000
    const series = new ReportSeries(() => now)
    series.sampleStages([{ consumer: 'ingest', lag: 3, pending: 1 }])
    now = 1_100
    series.sampleStages([{ consumer: 'ingest', lag: 7, pending: 0 }])
    now = 1_600
    series.sampleStages([{ consumer: 'ingest', lag: null, pending: 4 }])
    // Files published at 1,000 ms; ten end in the first quarter second, one in the third.
    for (let i = 1; i <= 10; i++) series.fileEnded(1_000, 1_000 + i * 10)
    series.fileEnded(1_000, 1_000 + 600)
    const s = series.series()
    expect(s.startMs).toBe(1_000)
    expect(s.bucketMs).toBe(250)
    expect(s.latency).toEqual({ t: [0, 0.5], p50: [50, 600], p99: [100, 600], files: [10, 1] })
    expect(s.histogram.counts.reduce((a, n) => a + n, 0)).toBe(11)
    expect(s.histogram.upperMs.at(-1)).toBe(1_000)
    expect(s.stages).toEqual({ names: ['ingest'], t: [0, 0.5], lag: [[7, null]], pending: [[1, 4]] })
  })
})
