import { describe, expect, it } from 'vitest'
import { permissiveContracts, type Bus } from '../../src/bus/index.js'
import type { CorrelationId } from '../../src/events/index.js'
import { tailEvents, type TailItem, type TailOptions } from '../../src/pipeline/inspect/index.js'
import { testBus, waitFor } from '../support/bus.js'

/** Runs a tail in the background; `stop()` ends it and returns what it printed. */
function startTail(bus: Bus, options: Omit<TailOptions, 'signal'> = {}) {
  const controller = new AbortController()
  const items: TailItem[] = []
  const running = (async () => {
    for await (const item of tailEvents(bus, { blockMs: 100, refreshMs: 50, ...options, signal: controller.signal })) items.push(item)
  })()
  running.catch(() => {}) // a test that fails early closes the bus under a running tail
  return {
    items,
    async stop() {
      controller.abort()
      await running
      return items
    },
  }
}

const ev = (type: string, key: string, correlationId?: string) => ({
  type,
  key,
  payload: { n: key },
  ...(correlationId === undefined ? {} : { correlationId: correlationId as CorrelationId }),
})

describe('tail', () => {
  it('on a quiet namespace, shows new events as they are published, in entry order across streams', async () => {
    const bus = await testBus({ contracts: permissiveContracts })
    // As a running pipeline's consumers do when they start; no events yet.
    await bus.redis.sadd(bus.keys.streams, 'a.happened', 'b.happened')
    const tail = startTail(bus)
    await new Promise((resolve) => setTimeout(resolve, 150))
    // Entry ids order streams by the millisecond only: publish in distinct milliseconds.
    for (const [type, key] of [['a.happened', 'k1'], ['b.happened', 'k2'], ['a.happened', 'k3']] as const) {
      await bus.publish(ev(type, key))
      await new Promise((resolve) => setTimeout(resolve, 3))
    }
    await waitFor(() => tail.items.length >= 3, { what: 'three events' })
    await bus.publish(ev('c.happened', 'k4')) // a stream nobody knew when the tail started
    await waitFor(() => tail.items.length >= 4, { what: 'the event of a new stream' })
    const items = await tail.stop()
    expect(items.map((i) => i.event?.key)).toEqual(['k1', 'k2', 'k3', 'k4'])
    expect(items.map((i) => i.type)).toEqual(['a.happened', 'b.happened', 'a.happened', 'c.happened'])
  })

  it('starts from now by default, and from --since (a duration or an entry id) when asked', async () => {
    const bus = await testBus({ contracts: permissiveContracts })
    // One stream: an entry id is a moment, and another stream can hold the same id.
    const [first, second] = await bus.publish([ev('a.happened', 'old1'), ev('a.happened', 'old2')])
    const fromNow = startTail(bus)
    const since = startTail(bus, { since: '10m' })
    const fromEntry = startTail(bus, { since: second?.entryId as string })
    await waitFor(() => since.items.length >= 2, { what: 'history' })
    await bus.publish(ev('a.happened', 'new'))
    await waitFor(() => fromNow.items.length >= 1 && since.items.length >= 3 && fromEntry.items.length >= 2, { what: 'the new event everywhere' })
    expect((await fromNow.stop()).map((i) => i.event?.key)).toEqual(['new'])
    expect((await since.stop()).map((i) => i.event?.key)).toEqual(['old1', 'old2', 'new'])
    expect((await fromEntry.stop()).map((i) => i.event?.key)).toEqual(['old2', 'new'])
    expect(first?.entryId).not.toBe(second?.entryId)
  })

  it('filters by stream and type globs, correlation id and key', async () => {
    const bus = await testBus({ contracts: permissiveContracts })
    await bus.publish([ev('pipeline.file.received', 'seed'), ev('other.thing', 'seed')]) // make the streams known
    const byGlob = startTail(bus, { types: ['pipeline.file.*'] })
    const byStream = startTail(bus, { streams: [bus.keys.stream('other.thing')] })
    const byCorrelation = startTail(bus, { correlationId: 'corr-1' })
    const byKey = startTail(bus, { key: 'k-2' })
    await new Promise((resolve) => setTimeout(resolve, 150))
    await bus.publish([
      ev('pipeline.file.received', 'k-1', 'corr-1'),
      ev('other.thing', 'k-2', 'corr-2'),
      ev('pipeline.file.mapped', 'k-3', 'corr-1'),
      ev('pipelineXfile.fake', 'k-4', 'corr-3'),
    ])
    await waitFor(() => byGlob.items.length >= 2 && byStream.items.length >= 1 && byCorrelation.items.length >= 2 && byKey.items.length >= 1, { what: 'filtered events' })
    await bus.publish(ev('pipeline.file.scored', 'end', 'corr-end')) // everything after the last expected one
    await waitFor(() => byGlob.items.length >= 3, { what: 'the last event' })
    expect((await byGlob.stop()).map((i) => i.event?.key)).toEqual(['k-1', 'k-3', 'end'])
    expect((await byStream.stop()).map((i) => i.event?.key)).toEqual(['k-2'])
    expect((await byCorrelation.stop()).map((i) => i.event?.key)).toEqual(['k-1', 'k-3'])
    expect((await byKey.stop()).map((i) => i.event?.key)).toEqual(['k-2'])
  })

  it('an entry that is not an event is shown as unreadable, not fatal', async () => {
    const bus = await testBus({ contracts: permissiveContracts })
    await bus.publish(ev('a.happened', 'seed'))
    const tail = startTail(bus)
    await new Promise((resolve) => setTimeout(resolve, 150))
    await bus.redis.xadd(bus.keys.stream('a.happened'), '*', 'hello', 'world')
    await bus.publish(ev('a.happened', 'after'))
    await waitFor(() => tail.items.length >= 2, { what: 'two entries' })
    const [foreign, after] = await tail.stop()
    expect(foreign).toMatchObject({ event: null, type: 'a.happened' })
    expect(foreign?.error).toMatch(/no "id" field/)
    expect(after?.event?.key).toBe('after')
  })
})
