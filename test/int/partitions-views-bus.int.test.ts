import { describe, expect, it } from 'vitest'
import {
  consumerStatus,
  correlationSize,
  defineConsumer,
  findDeadLetter,
  listDeadLetters,
  partitionBus,
  partitionOf,
  purgeDeadLetters,
  readCorrelation,
  redeliverDeadLetters,
  replayConsumer,
  type Bus,
  type ConsumerDefinition,
  type NewEvent,
} from '../../src/bus/index.js'
import { OUTBOX_TARGET } from '../../src/bus/context.js'
import { entryTime } from '../../src/bus/entry-ids.js'
import { publishEvents } from '../../src/bus/publish.js'
import { startRunner, type Runner } from '../../src/bus/runner.js'
import { resolveCorrelationId } from '../../src/pipeline/inspect/lookup.js'
import { tailEvents, type TailItem } from '../../src/pipeline/inspect/tail.js'
import { deleteNamespaces, findScratchNamespaces, loadNamespace } from '../../src/bus/scratch.js'
import { partitionLines } from '../../src/ui/format.js'
import { startLine } from '../../src/ui/tail/format.js'
import { testBus, waitFor } from '../support/bus.js'

const P = 4
const fast = { blockMs: 100, visibilityTimeoutMs: 1_000, retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 20 } }

/** A key whose events go to partition `p` (chosen by `partitionOf`, so it holds before and after publish routes by key). */
function keyIn(p: number, tag: string): string {
  for (let i = 0; ; i++) if (partitionOf(`${tag}-${i}`, P) === p) return `${tag}-${i}`
}

/** Publishes events into the partition their keys hash to. */
async function seed(bus: Bus, events: readonly NewEvent[]) {
  const out = []
  for (const e of events) out.push(...(await publishEvents(partitionBus(bus, partitionOf(e.key, P)), [e])))
  return out
}

/** Runs a consumer on every partition, one runner each (what the runtime does per partition). */
function runEverywhere(bus: Bus, consumer: () => ConsumerDefinition): { stop(): Promise<void>; runners: Runner[] } {
  const runners = bus.partitions.map((_, p) => startRunner(partitionBus(bus, p), consumer(), fast))
  return { runners, stop: async () => void (await Promise.all(runners.map((r) => r.stop()))) }
}

/** Sums n per key; 13 is poison until `fixed.value`. */
function summer(fixed: { value: boolean }): ConsumerDefinition {
  return defineConsumer({
    name: 'sum',
    subscribes: ['num.added'],
    handle(event, ctx) {
      const { n } = event.payload as { n: number }
      if (n === 13 && !fixed.value) throw new Error(`unlucky number ${n}`)
      ctx.state.hincrby('sum', event.key, n)
    },
  })
}

const handledEverywhere = async (bus: Bus, consumer: ConsumerDefinition) => (await consumerStatus(bus, [consumer]))[0]

describe(`views over ${P} partitions`, () => {
  it('status sums counters and names each partition owner; a dead letter of partition 3 is listed, shown, replayed and purged by its reference', async () => {
    const bus = await testBus({ partitions: P })
    const fixed = { value: false }
    const run = runEverywhere(bus, () => summer(fixed))
    const good = bus.partitions.flatMap((_, p) => [1, 2].map((n) => ({ type: 'num.added', key: keyIn(p, 'good'), payload: { n } })))
    const poison = [keyIn(3, 'bad-a'), keyIn(3, 'bad-b')].map((key) => ({ type: 'num.added', key, payload: { n: 13 } }))
    await seed(bus, [...good, ...poison])
    await waitFor(async () => {
      const s = await handledEverywhere(bus, summer(fixed))
      return s !== undefined && s.handled === 8 && s.deadLetterBacklog === 2
    }, { what: 'handled in every partition, two dead letters in partition 3' })

    const live = (await consumerStatus(bus, [summer(fixed)]))[0]
    expect(live).toMatchObject({ consumer: 'sum', handled: 8, deadLettered: 2, deadLetterBacklog: 2, pending: 0, lag: 0 })
    expect(live?.partitions?.map((p) => [p.partition, p.handled, p.deadLetterBacklog])).toEqual([[0, 2, 0], [1, 2, 0], [2, 2, 0], [3, 2, 2]])
    expect(live?.partitions?.map((p) => p.owner)).toEqual(run.runners.map((r) => r.instance))
    await run.stop()
    const stopped = (await consumerStatus(bus, [summer(fixed)]))[0]
    expect(stopped?.partitions?.map((p) => p.owner)).toEqual([null, null, null, null])
    const lines = partitionLines({ count: P, outbox: [0, 0, 0, 0], consumers: [{ consumer: 'sum', paused: [], partitions: stopped?.partitions ?? [] }] })
    expect(lines[1]).toMatch(/sum\s+0:unowned {2}1:unowned {2}2:unowned {2}3:unowned/)

    const [summary] = await listDeadLetters(bus)
    expect(summary).toMatchObject({ consumer: 'sum', count: 2, topErrors: [{ error: 'unlucky number 13', count: 2 }] })
    const ids = summary?.entries.map((e) => e.id) ?? []
    expect(ids).toHaveLength(2)
    for (const id of ids) expect(id).toMatch(/^sum:3\/\d+-\d+$/)
    const shown = await findDeadLetter(bus, ids[0] as string)
    expect(shown).toMatchObject({ consumer: 'sum', partition: 3, stream: 'num.added', error: 'unlucky number 13' })
    // A bare entry id is looked for in every partition; a partition out of range is not an id.
    expect((await findDeadLetter(bus, shown.entryId)).id).toBe(shown.id)
    await expect(findDeadLetter(bus, `sum:7/${shown.entryId}`)).rejects.toMatchObject({ code: 'E_DLQ_BAD_ID' })

    fixed.value = true
    const replayed = await redeliverDeadLetters(bus, { consumers: [summer(fixed)], ids: [ids[0] as string] })
    expect(replayed).toMatchObject({ delivered: 1, failed: 0, skipped: 0 })
    const p3 = partitionBus(bus, 3)
    expect(await p3.redis.hget(p3.keys.state('sum', 'sum'), shown.event?.key as string)).toBe('13')
    expect(await purgeDeadLetters(bus, { ids: [ids[1] as string] })).toEqual([{ consumer: 'sum', purged: 1 }])
    expect(await listDeadLetters(bus)).toEqual([])
  })

  it('a re-delivered emit whose key belongs to another partition goes through the outbox to that partition', async () => {
    const bus = await testBus({ partitions: P })
    const fixed = { value: false }
    const to = keyIn(1, 'out')
    const forward = defineConsumer({
      name: 'fwd',
      subscribes: ['num.added'],
      emits: ['num.forwarded'],
      handle(event, ctx) {
        if (!fixed.value) throw new Error('not yet')
        ctx.emit({ type: 'num.forwarded', key: to, payload: event.payload })
      },
    })
    const p3 = partitionBus(bus, 3)
    const runner = startRunner(p3, forward, fast)
    await seed(bus, [{ type: 'num.added', key: keyIn(3, 'in'), payload: { n: 1 } }])
    await waitFor(async () => (await listDeadLetters(bus))[0]?.count === 1, { what: 'a dead letter in partition 3' })
    await runner.stop()
    fixed.value = true
    expect(await redeliverDeadLetters(bus, { consumers: [forward], all: true })).toMatchObject({ delivered: 1 })
    // Not in partition 3's stream: in its outbox, named for partition 1, where the relay takes it.
    expect(await p3.redis.xlen(p3.keys.stream('num.forwarded'))).toBe(0)
    const outbox = (await p3.redis.xrange(p3.keys.outbox, '-', '+')) as [string, string[]][]
    expect(outbox.map(([, fields]) => fields[fields.indexOf(OUTBOX_TARGET) + 1])).toEqual(['1'])
  })

  it('trace reads a file whose index has rows in two partitions, in entry-time order', async () => {
    const bus = await testBus({ partitions: P })
    const [first] = await seed(bus, [{ type: 'file.seen', key: keyIn(1, 'file'), payload: { step: 1 } }])
    const correlationId = first?.correlationId as NewEvent['correlationId'] & string
    const [second] = await seed(bus, [{ type: 'file.moved', key: keyIn(3, 'file'), correlationId, causationId: first?.id ?? '', payload: { step: 2 } }])
    const items = await readCorrelation(bus, correlationId)
    expect(items.map((i) => [i.kind === 'event' ? i.type : i.consumer, i.partition])).toEqual([['file.seen', 1], ['file.moved', 3]])
    expect(items.map((i) => (i.kind === 'event' ? i.event?.id : null))).toEqual([first?.id, second?.id])
    expect(await correlationSize(bus, correlationId)).toBe(2)
    expect(await resolveCorrelationId(bus, correlationId.slice(-8))).toBe(correlationId)
  })

  it('tail merges every partition in entry-time order', async () => {
    const bus = await testBus({ partitions: P })
    const events = Array.from({ length: 12 }, (_, i) => ({ type: i % 2 === 0 ? 'tick.even' : 'tick.odd', key: keyIn(i % P, `tick-${i}`), payload: { i } }))
    await seed(bus, events)
    const controller = new AbortController()
    const seen: TailItem[] = []
    const started: number[] = []
    for await (const item of tailEvents(bus, { since: '1h', blockMs: 100, signal: controller.signal, onStart: (s) => void started.push(s.partitions) })) {
      seen.push(item)
      if (seen.length === events.length) controller.abort()
    }
    expect(seen.map((s) => (s.event?.payload as { i: number }).i).sort((a, b) => a - b)).toEqual(events.map((_, i) => i))
    const times = seen.map((s) => entryTime(s.entryId))
    expect(times).toEqual([...times].sort((a, b) => a - b))
    expect(started).toEqual([P])
    expect(startLine({ position: '0-0', types: ['tick.even', 'tick.odd'], partitions: P }, undefined)).toBe('following 2 streams in 4 partitions (merged by entry time) from now; Ctrl-C stops')
  })

  it('a window replay runs in every partition, each its own run, results summed; an offline rebuild too', async () => {
    const bus = await testBus({ partitions: P })
    const counter = defineConsumer({
      name: 'count',
      subscribes: ['num.added'],
      handle(event, ctx) {
        ctx.state.hincrby('seen', event.key, 1)
      },
    })
    await seed(bus, bus.partitions.flatMap((_, p) => [0, 1, 2].map((i) => ({ type: 'num.added', key: keyIn(p, `r${i}`), payload: { n: i } }))))
    const progress: number[] = []
    const summary = await replayConsumer(bus, { consumer: counter, from: '0', onProgress: (x) => progress.push(x.done) })
    expect(summary).toMatchObject({ consumer: 'count', events: 12, applied: 12, alreadyApplied: 0, failed: 0 })
    expect(summary.partitions?.map((p) => [p.partition, p.events, p.applied])).toEqual([[0, 3, 3], [1, 3, 3], [2, 3, 3], [3, 3, 3]])
    expect(new Set(summary.partitions?.map((p) => p.runId)).size).toBe(P)
    expect(Math.max(...progress)).toBe(12)
    for (let p = 0; p < P; p++) {
      const view = partitionBus(bus, p)
      expect(Object.values(await view.redis.hgetall(view.keys.state('count', 'seen')))).toEqual(['1', '1', '1'])
      expect(await view.redis.exists(view.keys.replayRun('count'))).toBe(0)
    }
    // A stray key in partition 2's state: the rebuild of every partition drops it and derives the rest again.
    const p2 = partitionBus(bus, 2)
    await p2.redis.set(p2.keys.state('count', 'stray'), 'x')
    const rebuilt = await replayConsumer(bus, { consumer: counter, rebuild: true })
    expect(rebuilt).toMatchObject({ rebuild: true, events: 12, applied: 12, droppedStateKeys: 5 })
    expect(rebuilt.online).toBeUndefined()
    expect(await p2.redis.exists(p2.keys.state('count', 'stray'))).toBe(0)
    for (let p = 0; p < P; p++) {
      const view = partitionBus(bus, p)
      expect(Object.values(await view.redis.hgetall(view.keys.state('count', 'seen')))).toEqual(['1', '1', '1'])
    }
  })

  it('an online rebuild fences, proves and swaps each partition under its own lease', async () => {
    const bus = await testBus({ partitions: P })
    const tally = () =>
      defineConsumer({
        name: 'tally',
        subscribes: ['num.added'],
        handle(event, ctx) {
          ctx.state.hincrby('n', event.key, (event.payload as { n: number }).n)
        },
      })
    const run = runEverywhere(bus, tally)
    await seed(bus, bus.partitions.flatMap((_, p) => [1, 2].map((n) => ({ type: 'num.added', key: keyIn(p, `t${n}`), payload: { n } }))))
    await waitFor(async () => (await consumerStatus(bus, [tally()]))[0]?.handled === 8, { what: 'every partition handled' })
    const summary = await replayConsumer(bus, { consumer: tally(), rebuild: true })
    await run.stop()
    expect(summary.online?.proof).toMatchObject({ equal: true, swapped: true, comparison: { leftRows: 8, rightRows: 8, equalRows: 8, differing: 0 } })
    expect(Object.keys(summary.online?.proof.position ?? {}).sort()).toEqual(['0/num.added', '1/num.added', '2/num.added', '3/num.added'])
    expect(summary.partitions?.map((p) => p.online?.proof.swapped)).toEqual([true, true, true, true])
  })

  it("clean finds a scratch namespace's keys in every partition and deletes them all", async () => {
    const bus = await testBus({ partitions: P, namespace: loadNamespace(4242) })
    await seed(bus, bus.partitions.map((_, p) => ({ type: 'num.added', key: keyIn(p, 'c'), payload: { n: p } })))
    const found = (await findScratchNamespaces(bus.redis)).find((n) => n.namespace === bus.namespace)
    // Per partition a stream, a correlation index and a publish marker; the global registry and partition count.
    expect(found).toMatchObject({ keys: 3 * P + 2, live: false })
    expect(await deleteNamespaces(bus.redis, bus.namespace)).toBe(3 * P + 2)
    expect((await findScratchNamespaces(bus.redis)).some((n) => n.namespace === bus.namespace)).toBe(false)
  })
})
