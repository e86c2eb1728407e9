import { render } from 'ink-testing-library'
import { describe, expect, it } from 'vitest'
import type { RuntimeSnapshot, StageFigures } from '../../src/pipeline/host/figures.js'
import { Dashboard } from '../../src/ui/Dashboard.js'
import { figuresLegend, pausedLines, stageLine, stageTable } from '../../src/ui/format.js'
import { stageFigures } from '../support/figures.js'

const stage = stageFigures

const snapshot: RuntimeSnapshot = {
  at: '2026-11-25T07:30:05.000Z',
  pid: 4242,
  namespace: 'pipeline',
  redis: 'redis://app:***@127.0.0.1:6379',
  inbox: '/work/demo/.pipeline/inbox',
  outDir: '/work/demo/.pipeline/out',
  http: 'http://127.0.0.1:7878',
  stages: [
    stage('ingest', { handled: 25, perSecond: 2.5, p50Ms: 4, p99Ms: 31 }),
    stage('validate', { handled: 20, perSecond: 0, lag: 3, pending: 1, retries: 2, deadLettered: 1, deadLetterBacklog: 1, p50Ms: 12, p99Ms: 1540 }),
    stage('deliver'),
  ],
  recent: [
    { at: '2026-11-25T07:30:04.000Z', fileName: 'atlas-nav-11-24-2026.csv', outcome: 'delivered', correlationId: 'c1', detail: '2026-11-25/nav/c1.json (score 97)' },
    { at: '2026-11-25T07:30:03.000Z', fileName: 'northwind-nav-bad-isin.csv', outcome: 'rejected', correlationId: 'c2', detail: 'validate: isin-check-digit' },
  ],
  warnings: ['2026-11-25T07:30:02.000Z consumer validate: boom (retrying)'],
}

/** Local clock times depend on the machine's zone: replace them. */
const normalise = (frame: string | undefined) => (frame ?? '').replace(/\b\d\d:\d\d:\d\d\b/g, 'HH:MM:SS')

describe('Dashboard', () => {
  it('says why a paused stage takes no events: its last error, since when, the next probe (or resume, when paused by hand)', () => {
    const paused = {
      ...snapshot,
      stages: [
        stage('deliver', { pending: 4, breaker: { open: true, reason: 'failures', since: Date.parse('2026-11-25T07:30:00Z'), lastError: 'cannot write the output: ENOTDIR\nat ...', nextProbeAt: Date.parse('2026-11-25T07:30:08Z'), probes: 2 } }),
        stage('score', { breaker: { open: true, reason: 'manual', since: Date.parse('2026-11-25T07:29:00Z'), lastError: 'paused by hand (pipeline pause)', nextProbeAt: null, probes: 0 } }),
        stage('ingest', { breaker: { open: false } }),
      ],
    }
    // The lines may wrap at the test terminal's width: compare the words.
    const frame = normalise(render(<Dashboard snapshot={paused} />).lastFrame()).replace(/\s+/g, ' ')
    expect(frame).toContain('deliver paused: cannot write the output: ENOTDIR, since HH:MM:SS, next probe HH:MM:SS')
    expect(frame).toContain('score paused: paused by hand (pipeline pause), since HH:MM:SS, until `pipeline resume --consumer score`')
    expect(frame).not.toContain('ingest paused')
    expect(pausedLines(paused.stages)).toHaveLength(2)
  })

  it('shows the header, a row per stage with every column, recent files and warnings', () => {
    const { lastFrame } = render(<Dashboard snapshot={snapshot} redisSource="managed-started" />)
    const frame = normalise(lastFrame())
    expect(frame).toContain('redis redis://app:***@127.0.0.1:6379 (managed-started)')
    expect(frame).toContain('inbox /work/demo/.pipeline/inbox')
    expect(frame).toContain('http http://127.0.0.1:7878 updated HH:MM:SS')
    expect(frame).toMatch(/STAGE\s+HANDLED\s+\/S\s+LAG\s+PENDING\s+RETRIES\s+DEAD\s+P50\s+P99/)
    expect(frame).toMatch(/ingest\s+25\s+2\.5\s+0\s+0\s+0\s+0\s+4ms\s+31ms/)
    expect(frame).toMatch(/validate\s+20\s+0\.0\s+3\s+1\s+2\s+1\s+12ms\s+1\.5s/)
    expect(frame).toMatch(/deliver\s+0\s+-\s+0\s+0\s+0\s+0\s+-\s+-/)
    expect(frame).toContain('HH:MM:SS delivered atlas-nav-11-24-2026.csv 2026-11-25/nav/c1.json (score 97)')
    expect(frame).toContain('HH:MM:SS rejected  northwind-nav-bad-isin.csv validate: isin-check-digit')
    expect(frame).toContain('HH:MM:SS consumer validate: boom (retrying)')
    expect(frame).toContain('Ctrl-C to stop')
    expect(frame).not.toContain('2026-11-25T')
  })

  it('invites a first file when nothing happened yet, and shows a status while stopping', () => {
    const { lastFrame } = render(<Dashboard snapshot={{ ...snapshot, recent: [], warnings: [], http: null }} status="Stopping: draining consumers..." />)
    const frame = normalise(lastFrame())
    expect(frame).toContain('none yet: drop a file into the inbox')
    expect(frame).toContain('http off')
    expect(frame).not.toContain('Warnings')
    expect(frame).toContain('Stopping: draining consumers...')
  })

  it("shows the outbox relay's backlog, lag, rate and dead rows when the host relays one, and no such line otherwise", () => {
    const outbox = { database: 'postgres://app:***@db/orders', backlog: 12, lagSeconds: 0.42, perSecond: 310.4, published: 9000, deadLettered: 2 }
    const frame = normalise(render(<Dashboard snapshot={{ ...snapshot, outbox }} />).lastFrame())
    expect(frame).toContain('outbox postgres://app:***@db/orders: 12 waiting (oldest 0.4 s), 310/s, 2 dead, 9000 relayed here')
    expect(normalise(render(<Dashboard snapshot={snapshot} />).lastFrame())).not.toContain('outbox ')
  })

  it('re-renders with new figures (props in, view out)', () => {
    const { lastFrame, rerender } = render(<Dashboard snapshot={snapshot} />)
    rerender(<Dashboard snapshot={{ ...snapshot, stages: [stage('ingest', { handled: 26, perSecond: 1 })] }} />)
    expect(lastFrame()).toMatch(/ingest\s+26\s+1\.0/)
  })
})

describe('the figures say what they count', () => {
  const idle = [
    stage('validate', { handled: 12, reads: ['pipeline.file.mapped'], deadLettered: 3, deadLetterBacklog: 0, p50Ms: null, p99Ms: null }),
    stage('deliver', { handled: 24, reads: ['pipeline.file.resolved', 'pipeline.file.scored'], deadLettered: 1, deadLetterBacklog: 1, p50Ms: 7, p99Ms: 20 }),
  ]

  it('an idle stage shows - for p50/p99, not 0ms; DEAD is what the dead-letter stream holds now', () => {
    const frame = normalise(render(<Dashboard snapshot={{ ...snapshot, stages: idle }} />).lastFrame())
    expect(frame).toMatch(/validate\s+12\s+-\s+0\s+0\s+0\s+0\s+-\s+-/)
    expect(frame).toMatch(/deliver\s+24\s+-\s+0\s+0\s+0\s+1\s+7ms\s+20ms/)
    expect(frame).not.toMatch(/\s0ms/)
  })

  it('the legend says over which window latency holds, that DEAD is now, and that deliver handles two inputs per file', () => {
    const frame = normalise(render(<Dashboard snapshot={{ ...snapshot, stages: idle }} />).lastFrame())
    expect(frame).toContain('HANDLED: input events, not files; deliver 2 per file (resolved + scored).')
    expect(frame).toContain('DEAD: entries in the dead-letter streams now')
    expect(frame).toContain('P50/P99: stage latency in this process over the last 10-20 s; - when nothing was committed.')
  })

  it('the plain lines tell the same: dead now, - when the window is empty', () => {
    expect(stageLine('HH:MM:SS', idle[0] as StageFigures)).toBe('HH:MM:SS validate handled=12 rate=-/s lag=0 pending=0 retries=0 dead=0 p50=- p99=-')
    expect(figuresLegend(idle)[0]).toBe('HANDLED: input events, not files; deliver 2 per file (resolved + scored).')
    expect(figuresLegend([stage('file-journey', { reads: ['a', 'b', 'c', 'd'] })])[0]).toContain('file-journey one per event of a file')
  })
})

describe('plain output', () => {
  it('one grep-able line per stage, and the same table as the dashboard', () => {
    expect(stageLine('HH:MM:SS', snapshot.stages[1] as StageFigures)).toBe('HH:MM:SS validate handled=20 rate=0.0/s lag=3 pending=1 retries=2 dead=1 p50=12ms p99=1.5s')
    expect(stageTable(snapshot.stages).split('\n')).toHaveLength(4)
  })
})
