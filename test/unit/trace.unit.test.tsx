import { render } from 'ink-testing-library'
import { describe, expect, it } from 'vitest'
import type { IndexedItem } from '../../src/bus/index.js'
import type { CorrelationId, EventEnvelope, EventId } from '../../src/events/index.js'
import { EVENT, pipelineConsumers } from '../../src/pipeline/index.js'
import { buildTrace, topologyOf, type ConsumerProbe, type Trace } from '../../src/pipeline/inspect/index.js'
import { awaitedLine } from '../../src/ui/trace/rows.js'
import { TraceView } from '../../src/ui/trace/TraceView.js'
import { traceText } from '../../src/ui/trace/render.js'

const T0 = Date.UTC(2026, 10, 25, 9, 30, 0)
const CORR = '0193cccc-0000-7000-8000-000000000000' as CorrelationId
const topology = topologyOf(
  pipelineConsumers({ outDir: '.' }).map((c) => ({ name: c.name, subscribes: [...c.subscribes], emits: [...(c.emits ?? [])] })),
)

function ev(n: number, type: string, source: string, cause: number | null, at: number, payload: unknown = {}): IndexedItem {
  const event: EventEnvelope = {
    id: `0193cccc-0000-7000-8000-${String(n).padStart(12, '0')}` as EventId,
    type,
    version: 1,
    source,
    occurredAt: new Date(T0 + at).toISOString(),
    correlationId: CORR,
    causationId: cause === null ? '' : (`0193cccc-0000-7000-8000-${String(cause).padStart(12, '0')}` as EventId),
    key: CORR,
    payload,
  }
  return { kind: 'event', type, entryId: `${T0 + at}-0`, event }
}

const base = [
  ev(1, EVENT.received, 'cli', null, 0, { fileName: 'nav.csv', contentBase64: 'AAAA', sizeBytes: 3 }),
  ev(2, EVENT.ingested, 'ingest', 1, 12, { fileName: 'nav.csv', kind: 'nav', rowCount: 3 }),
  ev(3, EVENT.mapped, 'map', 2, 20, { fileName: 'nav.csv', kind: 'nav', rowCount: 3 }),
  ev(4, EVENT.validated, 'validate', 3, 31, { fileName: 'nav.csv', kind: 'nav', rowCount: 3 }),
  ev(5, EVENT.enriched, 'enrich', 4, 40),
]
const noProbes = new Map<string, ConsumerProbe>()

describe('trace: the journey from the index', () => {
  it('the topology ends at delivered, rejected and duplicate', () => {
    expect([...topology.terminalTypes].sort()).toEqual([EVENT.delivered, EVENT.duplicate, EVENT.rejected])
  })

  it('hangs each event under its cause, with the latency of the hop, and says what is awaited', () => {
    const probes = new Map<string, ConsumerProbe>([['score', { handled: new Set(), failures: new Map([[String((base[3] as { event: EventEnvelope }).event.id), 2]]) }]])
    const trace = buildTrace(CORR, base, topology, probes)
    expect(trace).toMatchObject({ status: 'in-progress', outcome: null, fileName: 'nav.csv', events: 5, deadLetters: 0, elapsedMs: 40 })
    const [root] = trace.roots
    expect(root).toMatchObject({ type: EVENT.received, latencyMs: null, source: 'cli' })
    const validated = root?.children[0]?.children[0]?.children[0]
    expect(validated).toMatchObject({ type: EVENT.validated, source: 'validate', latencyMs: 11 })
    expect(validated?.children.map((c) => (c.kind === 'event' ? c.type : c.kind))).toEqual([EVENT.enriched])
    expect(trace.awaited).toEqual([
      { consumer: 'resolve', types: [EVENT.resolved], state: 'queued', failedAttempts: 0, needs: [] },
      { consumer: 'score', types: [EVENT.scored], state: 'retrying', failedAttempts: 2, needs: [] },
    ])
  })

  it('a join that has one half waits for the other', () => {
    const items = [...base, ev(6, EVENT.resolved, 'resolve', 5, 50)]
    const resolvedId = String((items[5] as { event: EventEnvelope }).event.id)
    const probes = new Map<string, ConsumerProbe>([['deliver', { handled: new Set([resolvedId]), failures: new Map() }]])
    const trace = buildTrace(CORR, items, topology, probes)
    expect(trace.awaited.find((a) => a.consumer === 'deliver')).toEqual({ consumer: 'deliver', types: [EVENT.delivered], state: 'joining', failedAttempts: 0, needs: [EVENT.scored] })
    expect(trace.awaited.map((a) => a.consumer)).toEqual(['score', 'deliver'])
  })

  it('a file whose input waits behind an open breaker says so: the last error, since when, the next probe', () => {
    const items = [...base, ev(6, EVENT.resolved, 'resolve', 5, 50), ev(7, EVENT.scored, 'score', 4, 55)]
    const breaker = { open: true as const, reason: 'failures' as const, since: T0 + 60, lastError: 'cannot write the output: ENOTDIR', nextProbeAt: T0 + 4_060, probes: 1 }
    const probes = new Map<string, ConsumerProbe>([['deliver', { handled: new Set(), failures: new Map(), breaker }]])
    const waiting = buildTrace(CORR, items, topology, probes).awaited.find((a) => a.consumer === 'deliver')
    expect(waiting?.paused).toEqual({ lastError: 'cannot write the output: ENOTDIR', since: '2026-11-25T09:30:00.060Z', nextProbeAt: '2026-11-25T09:30:04.060Z' })
    expect(awaitedLine(waiting as NonNullable<typeof waiting>)).toBe(
      "waiting for pipeline.file.delivered behind deliver's open breaker (paused: cannot write the output: ENOTDIR, since 09:30:00.060, next probe 09:30:04.060)",
    )
  })

  it('a dead letter sits under the event that failed; with nothing else pending the file is stuck', () => {
    const failed = (base[3] as { event: EventEnvelope }).event
    const items: IndexedItem[] = [
      ...base.slice(0, 4),
      ev(5, EVENT.enriched, 'enrich', 4, 40),
      ev(6, EVENT.resolved, 'resolve', 5, 50),
      ev(7, EVENT.scored, 'score', 4, 45),
      {
        kind: 'dead-letter',
        consumer: 'deliver',
        entryId: `${T0 + 90}-0`,
        fields: { id: failed.id, type: EVENT.scored, error: 'disk full', attempts: '3', failedAt: new Date(T0 + 90).toISOString(), consumer: 'deliver' },
      },
    ]
    const scored = (items[6] as { event: EventEnvelope }).event
    ;((items[7] as { fields: Record<string, string> }).fields)['id'] = scored.id
    const trace = buildTrace(CORR, items, topology, new Map([['deliver', { handled: new Set([String((items[5] as { event: EventEnvelope }).event.id)]), failures: new Map() }]]))
    expect(trace.status).toBe('stuck')
    expect(trace.awaited).toEqual([])
    const scoredNode = trace.roots[0]?.children[0]?.children[0]?.children[0]?.children.find((c) => c.kind === 'event' && c.type === EVENT.scored)
    expect(scoredNode?.children[0]).toMatchObject({ kind: 'dead-letter', consumer: 'deliver', attempts: 3, error: 'disk full' })
  })

  it('a dead letter since re-delivered or purged is shown as removed and does not count', () => {
    const items: IndexedItem[] = [...base.slice(0, 1), { kind: 'dead-letter', consumer: 'ingest', entryId: `${T0 + 5}-0`, fields: null }, ev(2, EVENT.ingested, 'ingest', 1, 12)]
    const trace = buildTrace(CORR, items, topology, noProbes)
    expect(trace.deadLetters).toBe(0)
    expect(trace.roots.find((n) => n.kind === 'dead-letter')).toMatchObject({ removed: true, consumer: 'ingest' })
    expect(strip(traceText(trace, { color: false }))).toContain('✓ dead letter in ingest since removed (re-delivered or purged)')
  })

  it('a terminal event completes it; trimmed entries are kept as such', () => {
    const items: IndexedItem[] = [...base.slice(0, 3), ev(4, EVENT.rejected, 'validate', 3, 31, { fileName: 'nav.csv', stage: 'validate', reasons: [{ rule: 'isin' }] }), { kind: 'event', type: EVENT.received, entryId: `${T0 - 5}-0`, event: null }]
    const trace = buildTrace(CORR, items, topology, noProbes)
    expect(trace).toMatchObject({ status: 'complete', outcome: EVENT.rejected, awaited: [] })
    expect(trace.roots.at(-1)).toMatchObject({ trimmed: true, type: EVENT.received })
  })
})

describe('trace: why a file was rejected', () => {
  const reason = (row: number) => ({ row, column: 'ISIN', value: `LU00000000${row}X`, rule: 'isin-check-digit', message: 'check digit does not match' })
  const rejectedFile = (reasons: unknown[]) =>
    buildTrace(CORR, [...base.slice(0, 3), ev(4, EVENT.rejected, 'validate', 3, 31, { fileName: 'nav.csv', stage: 'validate', reasons })], topology, noProbes)

  it('the rejected event carries each rule with its row, column and value (what --json prints)', () => {
    const trace = rejectedFile([reason(3), { rule: 'file-empty', message: 'no data rows' }, 'not a reason'])
    const rejected = trace.roots[0]?.children[0]?.children[0]?.children[0]
    expect(rejected).toMatchObject({
      type: EVENT.rejected,
      reasons: [
        { row: 3, column: 'ISIN', value: 'LU000000003X', rule: 'isin-check-digit', message: 'check digit does not match' },
        { rule: 'file-empty', message: 'no data rows' },
      ],
    })
    expect(JSON.parse(JSON.stringify(trace)).roots[0].children[0].children[0].children[0].reasons[0]).toEqual(reason(3))
    expect(trace.roots[0]).toMatchObject({ type: EVENT.received, reasons: [] })
  })

  it('the tree shows them under the rejected event, the first five and how many more', () => {
    const text = strip(traceText(rejectedFile([1, 2, 3, 4, 5, 6, 7].map(reason)), { color: false }))
    expect(text).toContain('      └─ pipeline.file.rejected  validate')
    expect(text).toContain('         ✗ isin-check-digit: row 1, column ISIN, value "LU000000001X" · check digit does not match')
    expect(text).toContain('         ✗ isin-check-digit: row 5, column ISIN, value "LU000000005X"')
    expect(text).not.toContain('row 6,')
    expect(text).toContain('         ✗ … 2 more (--json lists every reason)')
  })
})

const strip = (text: string) => text.replace(/\d\d:\d\d:\d\d\.\d\d\d/g, 'HH:MM:SS.mmm')

describe('trace: the view', () => {
  const inProgress: Trace = buildTrace(CORR, base, topology, noProbes)

  it('draws the causation tree with stage, time, latency, and what it waits for', () => {
    const { lastFrame } = render(<TraceView trace={inProgress} color={false} />)
    const frame = strip(lastFrame() ?? '')
    expect(frame).toContain('nav.csv · correlation 0193cccc-0000-7000-8000-000000000000')
    expect(frame).toContain('in progress · 5 events, 0 dead letters, 40 ms from first to last')
    expect(frame).toContain('pipeline.file.received  cli  HH:MM:SS.mmm  fileName=nav.csv sizeBytes=3')
    expect(frame).toContain('└─ pipeline.file.ingested  ingest  HH:MM:SS.mmm  +12 ms  fileName=nav.csv kind=nav rowCount=3')
    expect(frame).toContain('      └─ pipeline.file.validated  validate')
    expect(frame).toContain('… waiting for pipeline.file.resolved (resolve: queued)')
    expect(frame).toContain('… waiting for pipeline.file.scored (score: queued)')
  })

  it('draws every event when two streams appended in the same millisecond (same entry id, different streams)', () => {
    const sameMs = [ev(1, EVENT.received, 'cli', null, 0, { fileName: 'nav.csv' }), ev(2, EVENT.ingested, 'ingest', 1, 5), ev(3, EVENT.mapped, 'map', 2, 5)]
    const errors: unknown[] = []
    const original = console.error
    console.error = (...args: unknown[]) => void errors.push(args)
    try {
      const { lastFrame } = render(<TraceView trace={buildTrace(CORR, sameMs, topology, noProbes)} color={false} />)
      expect(lastFrame()).toContain(EVENT.ingested)
      expect(lastFrame()).toContain(EVENT.mapped)
    } finally {
      console.error = original
    }
    expect(errors).toEqual([])
  })

  it('renders the same text without a terminal, and no colour codes when colour is off', () => {
    const text = traceText(inProgress, { color: false })
    expect(text).not.toContain('\u001b[')
    expect(strip(text)).toContain('         └─ pipeline.file.enriched  enrich  HH:MM:SS.mmm  +9 ms')
  })
})

describe('trace: a file ending stays its ending', () => {
  // A team's audit reads delivered and emits: derived endings would drop delivered as terminal.
  const withAudit = [
    ...pipelineConsumers({ outDir: '.' }).map((c) => ({ name: c.name, subscribes: [...c.subscribes], emits: [...(c.emits ?? [])] })),
    { name: 'audit', subscribes: [EVENT.delivered], emits: ['audit.file.recorded'] },
  ]
  const delivered = [
    ...base,
    ev(6, EVENT.resolved, 'resolve', 5, 50),
    ev(7, EVENT.scored, 'score', 4, 45),
    ev(8, EVENT.delivered, 'deliver', 6, 60, { fileName: 'nav.csv', outputPath: 'x.json' }),
  ]

  it('derived from the consumers alone, delivered stops being an ending once something listens and emits', () => {
    expect(topologyOf(withAudit).terminalTypes).not.toContain(EVENT.delivered)
  })

  it('with the pipeline endings declared, a delivered file is complete, before and after audit recorded it', () => {
    const topo = topologyOf(withAudit, [EVENT.delivered, EVENT.rejected, EVENT.duplicate])
    expect(buildTrace(CORR, delivered, topo, noProbes).status).toBe('complete')
    const recorded = [...delivered, ev(9, 'audit.file.recorded', 'audit', 8, 61)]
    const trace = buildTrace(CORR, recorded, topo, noProbes)
    expect(trace.status).toBe('complete')
    expect(trace.outcome).toBe(EVENT.delivered)
  })
})
