import { randomUUID } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ConsumerContext, ConsumerDefinition, Emit, EventEnvelope, StateAccess } from '../../src/bus/types.js'
import { loadContracts } from '../../src/events/contracts.js'
import type { CorrelationId, EventId } from '../../src/events/ids.js'
import { EVENT, pipelineConsumers, readFileJourney, readLatestNav, receivedEvent, STAGE } from '../../src/pipeline/index.js'
import { packageRoot } from '../../src/pipeline/paths.js'

const contracts = loadContracts(join(packageRoot(), 'contracts'))

/** A consumer's state in memory, with writes buffered until the handler returns (as the bus does). */
class MemoryState implements StateAccess {
  readonly strings = new Map<string, string>()
  readonly hashes = new Map<string, Map<string, string>>()
  private pending: (() => void)[] = []
  async get(name: string) {
    return this.strings.get(name) ?? null
  }
  async getJson<T>(name: string) {
    const raw = this.strings.get(name)
    return raw === undefined ? null : (JSON.parse(raw) as T)
  }
  async hget(name: string, field: string) {
    return this.hashes.get(name)?.get(field) ?? null
  }
  async hgetall(name: string) {
    return Object.fromEntries(this.hashes.get(name) ?? [])
  }
  set(name: string, value: string) {
    this.pending.push(() => this.strings.set(name, value))
  }
  setJson(name: string, value: unknown) {
    this.set(name, JSON.stringify(value))
  }
  del(name: string) {
    this.pending.push(() => this.strings.delete(name))
  }
  private hash(name: string) {
    const h = this.hashes.get(name) ?? new Map<string, string>()
    this.hashes.set(name, h)
    return h
  }
  hset(name: string, field: string, value: string) {
    this.pending.push(() => this.hash(name).set(field, value))
  }
  hdel(name: string, field: string) {
    this.pending.push(() => this.hash(name).delete(field))
  }
  hincrby(name: string, field: string, by: number) {
    this.pending.push(() => this.hash(name).set(field, String(Number(this.hash(name).get(field) ?? 0) + by)))
  }
  commit() {
    for (const write of this.pending) write()
    this.pending = []
  }
}

/** A tiny in-memory bus: picks pending deliveries in a seeded order, so stream interleavings vary. */
class MemoryBus {
  readonly states = new Map<string, MemoryState>()
  readonly log: EventEnvelope[] = []
  /** Which consumer handled which type, in handling order. */
  readonly handled: { consumer: string; type: string }[] = []
  private pending: { consumer: ConsumerDefinition; event: EventEnvelope }[] = []
  private tick = 0
  constructor(
    private readonly consumers: ConsumerDefinition[],
    private seed: number,
  ) {
    for (const c of consumers) this.states.set(c.name, new MemoryState())
  }
  private random(): number {
    this.seed = (this.seed * 1103515245 + 12345) % 2 ** 31
    return this.seed / 2 ** 31
  }
  private envelope(e: Emit & { key: string }, parent: EventEnvelope | null): EventEnvelope {
    contracts.validate(e.type, 1, e.payload, parent === null ? 'publish' : `emitted after ${parent.type}`)
    this.tick++
    return {
      id: randomUUID() as EventId,
      type: e.type,
      version: 1,
      source: 'test',
      occurredAt: new Date(Date.UTC(2026, 10, 25, 8, 0, this.tick)).toISOString(),
      correlationId: (parent?.correlationId ?? randomUUID()) as CorrelationId,
      causationId: parent?.id ?? '',
      key: e.key,
      payload: JSON.parse(JSON.stringify(e.payload)) as unknown,
    }
  }
  private route(event: EventEnvelope) {
    this.log.push(event)
    for (const consumer of this.consumers) if (consumer.subscribes.includes(event.type)) this.pending.push({ consumer, event })
  }
  publish(e: { type: string; key: string; payload: unknown }): EventEnvelope {
    const env = this.envelope(e, null)
    this.route(env)
    return env
  }
  async drain() {
    while (this.pending.length > 0) {
      const [next] = this.pending.splice(Math.floor(this.random() * this.pending.length), 1)
      if (next === undefined) break
      const state = this.states.get(next.consumer.name) as MemoryState
      const out: EventEnvelope[] = []
      const ctx: ConsumerContext = {
        consumer: next.consumer.name,
        attempt: 1,
        state,
        emit: (e) => {
          const env = this.envelope({ ...e, key: e.key ?? next.event.key }, next.event)
          out.push(env)
          return env.id
        },
      }
      this.handled.push({ consumer: next.consumer.name, type: next.event.type })
      await next.consumer.handle(next.event, ctx)
      state.commit()
      for (const env of out) this.route(env)
    }
  }
  ofType(type: string) {
    return this.log.filter((e) => e.type === type)
  }
}

const fixture = (path: string) => readFileSync(join(packageRoot(), 'fixtures', path))
const CLOCK = () => new Date('2026-11-25T18:00:00Z')
let outDir: string

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'eventspine-pipeline-'))
})
afterAll(async () => {
  await rm(outDir, { recursive: true, force: true })
})

describe('pipelineConsumers', () => {
  it('declares nine consumers with unique names and what they subscribe to and emit', () => {
    const consumers = pipelineConsumers({ outDir: '/nowhere' })
    expect(consumers.map((c) => c.name)).toEqual(Object.values(STAGE))
    const emitted = new Set(consumers.flatMap((c) => c.emits ?? []))
    for (const c of consumers) for (const t of c.subscribes) expect(contracts.has(t), t).toBe(true)
    for (const t of emitted) expect(contracts.has(t), t).toBe(true)
  })
})

describe('the stages on an in-memory bus', () => {
  const firstAtDeliver = new Set<string>()

  it.each([1, 2, 3, 4, 5, 6])('deliver a good file whatever the interleaving (seed %i)', async (seed) => {
    const bus = new MemoryBus(pipelineConsumers({ outDir, clock: CLOCK }), seed)
    const received = bus.publish(receivedEvent('northwind-nav-2026-11-24.csv', fixture('inbox/northwind-nav-2026-11-24.csv'), { receivedAt: new Date('2026-11-25T07:30:00Z') }))
    await bus.drain()
    firstAtDeliver.add(bus.handled.find((h) => h.consumer === STAGE.deliver)?.type ?? '')
    const [delivered] = bus.ofType(EVENT.delivered)
    expect(bus.ofType(EVENT.delivered)).toHaveLength(1)
    expect(delivered?.payload).toMatchObject({ kind: 'nav', recordCount: 8, score: 100 })
    expect(delivered?.correlationId).toBe(received.correlationId)
    expect(delivered?.key).toBe(received.correlationId)
    const doc = JSON.parse(await readFile(join(outDir, (delivered?.payload as { outputPath: string }).outputPath), 'utf8')) as { records: unknown[] }
    expect(doc.records).toHaveLength(8)
    // The join state is gone once delivered; the projections saw the file.
    expect([...(bus.states.get(STAGE.deliver)?.strings.keys() ?? [])]).toEqual([])
    const journeyState = bus.states.get(STAGE.fileJourney) as MemoryState
    expect(await readFileJourney(journeyState, received.correlationId)).toMatchObject({ status: 'delivered', fileName: 'northwind-nav-2026-11-24.csv' })
    expect(await readLatestNav(bus.states.get(STAGE.navLatest) as MemoryState, 'LU1842936517')).toMatchObject({ nav: 148.2731, navDate: '2026-11-24' })
  })

  it('saw both arrival orders at the deliver join across those seeds', () => {
    expect(firstAtDeliver).toEqual(new Set([EVENT.resolved, EVENT.scored]))
  })

  it('reports the second copy of a file as a duplicate, which goes no further', async () => {
    const bus = new MemoryBus(pipelineConsumers({ outDir, clock: CLOCK }), 7)
    const bytes = fixture('inbox/lumen-nav-24112026.csv')
    const first = bus.publish(receivedEvent('a.csv', bytes))
    await bus.drain()
    const second = bus.publish(receivedEvent('b.csv', bytes))
    await bus.drain()
    expect(bus.ofType(EVENT.duplicate).map((e) => e.payload)).toEqual([expect.objectContaining({ fileName: 'b.csv', firstCorrelationId: first.correlationId })])
    expect(bus.ofType(EVENT.ingested)).toHaveLength(1)
    expect(bus.ofType(EVENT.delivered)).toHaveLength(1)
    expect(await readFileJourney(bus.states.get(STAGE.fileJourney) as MemoryState, second.correlationId)).toMatchObject({ status: 'duplicate' })
  })

  it('rejects a faulty file with every reason and records them in its journey', async () => {
    const bus = new MemoryBus(pipelineConsumers({ outDir, clock: CLOCK }), 8)
    const received = bus.publish(receivedEvent('bad.csv', fixture('faulty/northwind-nav-future-date.csv')))
    await bus.drain()
    const [rejected] = bus.ofType(EVENT.rejected)
    expect(rejected?.payload).toMatchObject({ stage: 'validate', kind: 'nav', reasons: [{ rule: 'date-not-future', row: 1 }, { rule: 'date-not-future', row: 2 }] })
    expect(bus.ofType(EVENT.validated)).toHaveLength(0)
    expect(await readFileJourney(bus.states.get(STAGE.fileJourney) as MemoryState, received.correlationId)).toMatchObject({ status: 'rejected', reasons: [{}, {}] })
  })

  it('rejects an unreadable file at ingest', async () => {
    const bus = new MemoryBus(pipelineConsumers({ outDir, clock: CLOCK }), 9)
    bus.publish(receivedEvent('empty.csv', new Uint8Array()))
    await bus.drain()
    expect(bus.ofType(EVENT.rejected).map((e) => e.payload)).toEqual([expect.objectContaining({ stage: 'ingest', reasons: [expect.objectContaining({ rule: 'empty-file' })] })])
  })

  it('flags a NAV jump against the previous day kept in score state', async () => {
    const bus = new MemoryBus(pipelineConsumers({ outDir, clock: CLOCK }), 10)
    bus.publish(receivedEvent('d1.csv', fixture('inbox/atlas-nav-11-24-2026.csv'), { receivedAt: new Date('2026-11-25T07:30:00Z') }))
    await bus.drain()
    bus.publish(receivedEvent('d2.csv', fixture('inbox/atlas-nav-11-25-2026.csv'), { receivedAt: new Date('2026-11-25T17:30:00Z') }))
    await bus.drain()
    const scores = bus.ofType(EVENT.scored).map((e) => e.payload as { fileName: string; flags: { rule: string }[] })
    expect(scores.find((s) => s.fileName === 'd2.csv')?.flags.map((f) => f.rule)).toEqual(['nav-jump'])
    expect(await readLatestNav(bus.states.get(STAGE.navLatest) as MemoryState, 'US38147Q6272')).toMatchObject({ navDate: '2026-11-25' })
  })
})
