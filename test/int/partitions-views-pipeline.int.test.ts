import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { defineConsumer, partitionBus, partitionOf, type Bus, type ConsumerDefinition } from '../../src/bus/index.js'
import { publishEvents } from '../../src/bus/publish.js'
import { startRunner } from '../../src/bus/runner.js'
import { deadLetterPage } from '../../src/pipeline/console/dead-letters.js'
import { pipelineGraph } from '../../src/pipeline/console/graph.js'
import { searchFiles } from '../../src/pipeline/console/search.js'
import { streamPage } from '../../src/pipeline/console/streams.js'
import { FigureCollector } from '../../src/pipeline/host/collect.js'
import { pipelineStatus } from '../../src/pipeline/host/status.js'
import { testRedisUrl } from '../support/namespace.js'
import type { RuntimeSnapshot } from '../../src/pipeline/host/figures.js'
import { reconcile } from '../../src/pipeline/reconcile/index.js'
import type { PipelineSource } from '../../src/pipeline/source.js'
import { testBus, waitFor } from '../support/bus.js'

const P = 4
const fast = { blockMs: 100, visibilityTimeoutMs: 1_000, retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 20 } }

function keyIn(p: number, tag: string): string {
  for (let i = 0; ; i++) if (partitionOf(`${tag}-${i}`, P) === p) return `${tag}-${i}`
}

/** A team's own two-step pipeline: a received file is finished (one ending), except the poison one. */
function finisher(): ConsumerDefinition {
  return defineConsumer({
    name: 'finish',
    subscribes: ['doc.received'],
    emits: ['doc.done'],
    handle(event, ctx) {
      if ((event.payload as { fileName: string }).fileName === 'poison.csv') throw new Error('cannot finish poison.csv')
      ctx.emit({ type: 'doc.done', payload: { fileName: (event.payload as { fileName: string }).fileName } })
    },
  })
}

const source = { intakeEmits: ['doc.received'], endings: ['doc.done'], consumers: () => [finisher()] } as unknown as PipelineSource

/** Two files in every partition, run by a runner per partition until each has its ending. */
async function runDay(bus: Bus, extra: readonly { key: string; fileName: string }[] = []): Promise<void> {
  const runners = bus.partitions.map((_, p) => startRunner(partitionBus(bus, p), finisher(), fast))
  const files = [...bus.partitions.flatMap((_, p) => [0, 1].map((i) => ({ key: keyIn(p, `f${i}`), fileName: `p${p}-${i}.csv` }))), ...extra]
  for (const f of files) await publishEvents(partitionBus(bus, partitionOf(f.key, P)), [{ type: 'doc.received', key: f.key, payload: { fileName: f.fileName } }])
  const done = async () => {
    let n = 0
    for (let p = 0; p < P; p++) {
      const view = partitionBus(bus, p)
      n += (await view.redis.xlen(view.keys.stream('doc.done'))) + (await view.redis.xlen(view.keys.deadLetters('finish')))
    }
    return n === files.length
  }
  await waitFor(done, { what: 'every file finished or dead-lettered' })
  await Promise.all(runners.map((r) => r.stop()))
}

describe(`the pipeline's views over ${P} partitions`, () => {
  it('reconcile is clean over every partition', async () => {
    const bus = await testBus({ partitions: P })
    await runDay(bus)
    const r = await reconcile(bus, source, {})
    expect(r.unexplained).toEqual([])
    expect(r.files.groups.reduce((n, g) => n + g.received, 0)).toBe(8)
    expect(r.files.groups.reduce((n, g) => n + (g.endings['doc.done'] ?? 0), 0)).toBe(8)
    expect(r.flow.streams.find((s) => s.stream === 'doc.received')).toMatchObject({ appended: 8, groups: [{ consumer: 'finish', acknowledged: 8, pending: 0, lag: 0 }] })
    expect(r.flow.consumers).toEqual([{ consumer: 'finish', read: 8, committed: 8, deadLettered: 0, pending: 0, unaccounted: 0 }])
  })

  it('pipeline status sums the stages and shows every partition unowned once its runners stopped, and each outbox', async () => {
    const bus = await testBus({ partitions: P })
    await runDay(bus)
    const projectDir = mkdtempSync(join(tmpdir(), 'eventspine-views-'))
    try {
      const s = await pipelineStatus({ redisUrl: testRedisUrl(), namespace: bus.namespace, projectDir, source })
      expect(s.stages).toMatchObject([{ stage: 'finish', handled: 8, lag: 0, pending: 0 }])
      expect(s.partitions).toMatchObject({ count: P, outbox: [0, 0, 0, 0], consumers: [{ consumer: 'finish', paused: [] }] })
      expect(s.partitions?.consumers[0]?.partitions.map((p) => [p.owner, p.handled])).toEqual([[null, 2], [null, 2], [null, 2], [null, 2]])
    } finally {
      rmSync(projectDir, { recursive: true, force: true })
    }
  })

  it("the console's graph sums every partition, and its stream, dead-letter and search pages read them all", async () => {
    const bus = await testBus({ partitions: P })
    await runDay(bus, [{ key: keyIn(2, 'poison'), fileName: 'poison.csv' }])
    const [stage] = await new FigureCollector(bus, () => [finisher()], () => []).collect()
    expect(stage).toMatchObject({ stage: 'finish', handled: 8, deadLetterBacklog: 1, lag: 0, pending: 0 })
    const snapshot = { at: new Date(0).toISOString(), namespace: bus.namespace, stages: stage ? [stage] : [], recent: [], warnings: [] } as unknown as RuntimeSnapshot
    const graph = pipelineGraph([finisher()], source.intakeEmits, snapshot)
    expect(graph.consumers[0]?.figures).toMatchObject({ handled: 8, deadLetterBacklog: 1 })

    const first = await streamPage(bus, 'doc.received', { limit: 5 })
    expect(first).toMatchObject({ length: 9, groups: [{ name: 'finish', pending: 0, lag: 0 }] })
    expect(first.entries).toHaveLength(5)
    const rest = await streamPage(bus, 'doc.received', { limit: 5, cursor: first.cursor })
    expect(rest.cursor).toBeNull()
    const names = [...first.entries, ...rest.entries].map((e) => e.summary)
    expect(names).toHaveLength(9)
    const times = [...first.entries, ...rest.entries].map((e) => Number(e.entryId.split('-')[0]))
    expect(times).toEqual([...times].sort((a, b) => b - a))

    const dead = await deadLetterPage(bus, 'finish')
    expect(dead.count).toBe(1)
    expect(dead.entries[0]?.id).toMatch(/^finish:2\/\d+-\d+$/)

    const id = dead.entries[0]?.correlationId as string
    const found = await searchFiles(bus, id.slice(-8))
    expect(found.hits.map((h) => h.correlationId)).toEqual([id])
    expect(found.cursor).toBeNull()
  })
})
