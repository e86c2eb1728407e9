import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { onTestFinished, describe, expect, it } from 'vitest'
import type { Bus } from '../../src/bus/index.js'
import { hasCode } from '../../src/errors.js'
import { EVENT, pipelineConsumers, receivedEvent } from '../../src/pipeline/index.js'
import { findFileCorrelation, readTrace, resolveCorrelationId, traceFile, type Trace, type TraceNode } from '../../src/pipeline/inspect/index.js'
import { testBus, waitFor } from '../support/bus.js'
import { testRedisUrl } from '../support/namespace.js'

const fast = { blockMs: 100, retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 } }
const GOOD = 'fixtures/inbox/northwind-nav-2026-11-24.csv'
const BAD_ISIN = 'fixtures/faulty/northwind-nav-bad-isin.csv'

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'eventspine-trace-'))
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function publishFile(bus: Bus, path: string): Promise<string> {
  const [published] = await bus.publish(receivedEvent(path.split('/').pop() as string, readFileSync(path)))
  return published?.correlationId as string
}

async function settled(bus: Bus, correlationId: string, done: (t: Trace) => boolean): Promise<Trace> {
  return waitFor(
    async () => {
      const trace = await readTrace(bus, correlationId)
      return trace && done(trace) ? trace : null
    },
    { what: `trace of ${correlationId}` },
  )
}

function flatten(nodes: readonly TraceNode[]): TraceNode[] {
  return nodes.flatMap((n) => [n, ...flatten(n.children)])
}

const types = (trace: Trace) => flatten(trace.roots).map((n) => (n.kind === 'event' ? n.type : `dlq:${n.consumer}`))

describe('trace on the real pipeline', () => {
  it('a delivered file: every hop under its cause, with stage and latency, nothing awaited', async () => {
    const bus = await testBus()
    bus.run(pipelineConsumers({ outDir: tempDir() }), fast)
    const id = await publishFile(bus, GOOD)
    const trace = await settled(bus, id, (t) => t.status === 'complete')
    expect(trace).toMatchObject({ outcome: EVENT.delivered, fileName: 'northwind-nav-2026-11-24.csv', events: 8, deadLetters: 0, awaited: [] })
    expect(types(trace).slice(0, 4)).toEqual([EVENT.received, EVENT.ingested, EVENT.mapped, EVENT.validated])
    expect(types(trace).slice(4).sort()).toEqual([EVENT.delivered, EVENT.enriched, EVENT.resolved, EVENT.scored])
    const nodes = flatten(trace.roots)
    const validated = nodes.find((n) => n.kind === 'event' && n.type === EVENT.validated)
    // validate's output feeds both branches: enrich -> resolve, and score; deliver joins them.
    expect(validated?.children.map((c) => (c.kind === 'event' ? c.type : '')).sort()).toEqual([EVENT.enriched, EVENT.scored])
    for (const node of nodes) {
      if (node.kind !== 'event' || node.type === EVENT.received) continue
      expect(node.latencyMs).toBeGreaterThanOrEqual(0)
      expect(node.source).toBe({ [EVENT.ingested]: 'ingest', [EVENT.mapped]: 'map', [EVENT.validated]: 'validate', [EVENT.enriched]: 'enrich', [EVENT.resolved]: 'resolve', [EVENT.scored]: 'score', [EVENT.delivered]: 'deliver' }[node.type])
    }
    // The file itself leads to the same journey, through ingest's dedup state.
    expect(await findFileCorrelation(bus, readFileSync(GOOD))).toMatchObject({ correlationId: id, via: 'ingest-state' })
  })

  it('a rejected file ends at rejected, with validate as its stage', async () => {
    const bus = await testBus()
    bus.run(pipelineConsumers({ outDir: tempDir() }), fast)
    const id = await publishFile(bus, BAD_ISIN)
    const trace = await settled(bus, id, (t) => t.status === 'complete')
    expect(trace).toMatchObject({ outcome: EVENT.rejected, awaited: [], deadLetters: 0 })
    expect(types(trace)).toEqual([EVENT.received, EVENT.ingested, EVENT.mapped, EVENT.rejected])
    const rejected = flatten(trace.roots).at(-1)
    expect(rejected).toMatchObject({ kind: 'event', source: 'validate' })
    expect(rejected?.kind === 'event' && rejected.summary).toContain('stage=validate')
    // The rule, row, column and value are in the trace, not only behind GET /files/:id.
    expect(rejected?.kind === 'event' && rejected.reasons[0]).toMatchObject({ rule: expect.stringMatching(/isin/i), row: expect.any(Number), column: expect.any(String), value: expect.any(String) })
  })

  it('a dead-lettered file: the dead letter, its error and attempts under the event that failed; stuck', async () => {
    const bus = await testBus()
    // A name too long for the file system is a plain error (3 attempts, then the dead letters); a
    // file where the folder should be is transient and would never dead-letter (breaker-deliver).
    const tooLong = join(tempDir(), 'x'.repeat(300))
    bus.run(pipelineConsumers({ outDir: tooLong }), fast)
    const id = await publishFile(bus, GOOD)
    const trace = await settled(bus, id, (t) => t.deadLetters > 0)
    expect(trace).toMatchObject({ status: 'stuck', outcome: null, awaited: [], deadLetters: 1 })
    const dead = flatten(trace.roots).find((n) => n.kind === 'dead-letter')
    expect(dead).toMatchObject({ kind: 'dead-letter', consumer: 'deliver', attempts: 3 })
    expect(dead?.kind === 'dead-letter' && dead.error).toMatch(/ENAMETOOLONG|name too long/i)
    // It hangs under the half of the join that deliver failed on.
    const parent = flatten(trace.roots).find((n) => n.children.includes(dead as TraceNode))
    expect(parent?.kind === 'event' && [EVENT.resolved, EVENT.scored]).toContain(parent?.kind === 'event' ? parent.type : '')
  })

  it('a file waiting for a stopped pipeline says what it waits for; --follow runs until it is delivered', async () => {
    const bus = await testBus()
    const id = await publishFile(bus, GOOD)
    const waiting = await readTrace(bus, id)
    expect(waiting).toMatchObject({ status: 'in-progress', awaited: [{ consumer: 'ingest', state: 'queued', types: [EVENT.ingested, EVENT.duplicate, EVENT.rejected] }] })
    // Not ingested yet: the path is found among the latest received files.
    expect(await findFileCorrelation(bus, readFileSync(GOOD))).toMatchObject({ correlationId: id, via: 'received-stream' })

    const seen: Trace[] = []
    const following = traceFile({ url: testRedisUrl(), namespace: bus.namespace, target: GOOD, follow: true, onUpdate: (t) => void seen.push(t) })
    await waitFor(() => seen.length > 0, { what: 'the first trace' })
    bus.run(pipelineConsumers({ outDir: tempDir() }), fast)
    const last = await following
    expect(last).toMatchObject({ status: 'complete', outcome: EVENT.delivered })
    expect(seen.length).toBeGreaterThan(1)
    expect(seen[0]?.awaited.map((a) => a.consumer)).toEqual(['ingest'])
  })

  it('an unknown id or file is a clear, user-fixable error', async () => {
    const bus = await testBus()
    const unknown = traceFile({ url: testRedisUrl(), namespace: bus.namespace, target: '0193ffff-0000-7000-8000-000000000000' })
    await expect(unknown).rejects.toMatchObject({ code: 'E_TRACE_NOT_FOUND', userFixable: true })
    await expect(unknown).rejects.toThrow(/No events for correlation id "0193ffff-0000-7000-8000-000000000000" in namespace/)
    const neverSent = traceFile({ url: testRedisUrl(), namespace: bus.namespace, target: BAD_ISIN })
    await expect(neverSent).rejects.toThrow(/was never received/)
    const missing = await traceFile({ url: testRedisUrl(), namespace: bus.namespace, target: 'inbox/nope.csv' }).catch((e: unknown) => e)
    expect(hasCode(missing, 'E_TRACE_TARGET')).toBe(true)
  })

  it('takes any unique start or end of a correlation id: the short id tail shows', async () => {
    const bus = await testBus()
    // Two files of the same millisecond share the first 13 characters of a UUIDv7.
    const a = '0193dddd-0000-7000-8000-00000000aaa1'
    const b = '0193dddd-0000-7000-8000-00000000bbb2'
    await bus.publish([
      { type: 'test.happened', key: 'k', correlationId: a as never, payload: {} },
      { type: 'test.happened', key: 'k', correlationId: b as never, payload: {} },
    ])
    expect(await resolveCorrelationId(bus, '0000aaa1')).toBe(a)
    expect(await resolveCorrelationId(bus, 'BBB2')).toBe(b)
    expect(await resolveCorrelationId(bus, b)).toBe(b)
    expect(await resolveCorrelationId(bus, 'ffff0000')).toBeNull()
    const ambiguous = await resolveCorrelationId(bus, '0193dddd').catch((e: unknown) => e)
    expect(ambiguous).toMatchObject({ code: 'E_TRACE_AMBIGUOUS', userFixable: true, details: { candidates: [a, b] } })
    expect(String((ambiguous as Error).message)).toContain(`"0193dddd" matches 2 correlation ids in namespace "${bus.namespace}":\n  ${a}\n  ${b}`)
    const traced = await traceFile({ url: testRedisUrl(), namespace: bus.namespace, target: 'aaa1' })
    expect(traced.correlationId).toBe(a)
    await expect(traceFile({ url: testRedisUrl(), namespace: bus.namespace, target: 'ffff0000' })).rejects.toMatchObject({ code: 'E_TRACE_NOT_FOUND' })
  })
})
