import { render } from 'ink-testing-library'
import { describe, expect, it } from 'vitest'
import type { RuntimeSnapshot, StageFigures } from '../../src/pipeline/host/figures.js'
import { Dashboard } from '../../src/ui/Dashboard.js'
import { stageLine, stageTable } from '../../src/ui/format.js'
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

  it('re-renders with new figures (props in, view out)', () => {
    const { lastFrame, rerender } = render(<Dashboard snapshot={snapshot} />)
    rerender(<Dashboard snapshot={{ ...snapshot, stages: [stage('ingest', { handled: 26, perSecond: 1 })] }} />)
    expect(lastFrame()).toMatch(/ingest\s+26\s+1\.0/)
  })
})

describe('plain output', () => {
  it('one grep-able line per stage, and the same table as the dashboard', () => {
    expect(stageLine('HH:MM:SS', snapshot.stages[1] as StageFigures)).toBe('HH:MM:SS validate handled=20 rate=0.0/s lag=3 pending=1 retries=2 dead=1 p50=12ms p99=1.5s')
    expect(stageTable(snapshot.stages).split('\n')).toHaveLength(4)
  })
})
