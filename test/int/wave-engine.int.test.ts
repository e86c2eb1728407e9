import { describe, expect, it } from 'vitest'
import { defineConsumer, type ConsumerDefinition } from '../../src/bus/index.js'
import { GroupReader } from '../../src/bus/reader.js'
import type { RetryPolicy } from '../../src/bus/retry.js'
import { WaveEngine, type WaveEngineOptions } from '../../src/bus/wave-engine.js'
import { testBus } from '../support/bus.js'
import { sharedCounter } from '../support/consumers.js'

const retry: RetryPolicy = { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1_000 }

/** An engine holding the lease of `consumer`, with a story of what it did (by event key) and a clock the test moves. */
async function engineFor(consumer: ConsumerDefinition, options: Partial<WaveEngineOptions> = {}) {
  const bus = await testBus()
  const token = 'engine-test'
  await bus.redis.esLease(bus.keys.lease(consumer.name), token, 60_000, 'acquire')
  const reader = new GroupReader(bus, bus.keys.group(consumer.name), 'engine@test', consumer.subscribes.map((t) => bus.keys.stream(t)), bus.redis)
  await reader.ensureGroups()
  const story: string[] = []
  const clock = { now: 1_000 }
  const engine = new WaveEngine(bus, consumer, {
    token,
    retry,
    batchSize: 100,
    inboxSize: 1_000,
    lastCommitted: reader.lastCommitted,
    now: () => clock.now,
    random: () => 1,
    sink: {
      satOut: (h) => void story.push(`${h.event?.key} sits out`),
      deferred: (h) => void story.push(`${h.event?.key} deferred`),
      committed: (h) => void story.push(`${h.event?.key} committed`),
      failed: (h, _error, attempts, decision) => void story.push(`${h.event?.key} failed ${attempts}: ${decision.kind}`),
    },
    ...options,
  })
  /** Publishes, reads and holds the events, as the runner's read loop does. */
  const feed = async (events: { key: string; payload: unknown }[]) => {
    await bus.publish(events.map((e) => ({ type: consumer.subscribes[0] as string, ...e })))
    await engine.hold(await reader.readNew(100, 0), false)
  }
  /** Runs waves until none is due, as the runner's step does; returns the number of waves. */
  const drain = async () => {
    let waves = 0
    for (let wave = engine.readyWave(); wave.some((w) => !w.sitOut); wave = engine.readyWave()) {
      await engine.run(wave)
      waves++
    }
    return waves
  }
  return { bus, reader, engine, story, clock, feed, drain }
}

const counter = sharedCounter

describe('the wave engine', () => {
  it('defers an event that read what an earlier one of its wave wrote; the next deferred one sits out behind it', async () => {
    const { bus, engine, story, feed, drain } = await engineFor(counter)
    await feed([{ key: 'a', payload: {} }, { key: 'b', payload: {} }, { key: 'c', payload: {} }])
    expect(await drain()).toBe(3)
    // Wave 1: b and c read the total a wrote, a commits. Wave 2: b again; c overlaps b, so it sits out. Wave 3: c.
    expect(story).toEqual(['b deferred', 'c deferred', 'a committed', 'c sits out', 'b committed', 'c committed'])
    expect(await bus.redis.get(bus.keys.state('counter', 'total'))).toBe('3')
    expect(engine.size).toBe(0)
  })

  it('handles only the head of a key; a dead-lettered head releases its queue to the entry behind it', async () => {
    const picky = defineConsumer({
      name: 'picky',
      subscribes: ['num'],
      handle(event, ctx) {
        if ((event.payload as { n: number }).n === 13) throw new Error('unlucky')
        ctx.state.hincrby('sum', event.key, (event.payload as { n: number }).n)
      },
    })
    const { bus, engine, story, feed, drain } = await engineFor(picky, { retry: { ...retry, maxAttempts: 1 } })
    await feed([{ key: 'k', payload: { n: 13 } }, { key: 'k', payload: { n: 2 } }])
    expect(engine.heads()).toHaveLength(1)
    await drain()
    expect(story).toEqual(['k failed 1: dead-letter', 'k committed'])
    expect(await bus.redis.hget(bus.keys.state('picky', 'sum'), 'k')).toBe('2')
    expect(await bus.redis.xlen(bus.keys.deadLetters('picky'))).toBe(1)
    expect(engine.size).toBe(0)
  })

  it('a failed head waits out its backoff on the clock, and is then handled as attempt 2', async () => {
    let failures = 1
    const attempts: number[] = []
    const flaky = defineConsumer({
      name: 'flaky',
      subscribes: ['num'],
      handle(_event, ctx) {
        attempts.push(ctx.attempt)
        if (failures-- > 0) throw new Error('flaky')
      },
    })
    const { engine, story, clock, feed, drain } = await engineFor(flaky)
    await feed([{ key: 'k', payload: {} }])
    await drain()
    expect(story).toEqual(['k failed 1: retry'])
    // random() = 1: the full first backoff, baseDelayMs.
    expect(engine.nextDue()).toBe(1_100)
    clock.now = 1_099
    expect(engine.readyWave()).toEqual([])
    clock.now = 1_100
    await drain()
    expect(story).toEqual(['k failed 1: retry', 'k committed'])
    expect(attempts).toEqual([1, 2])
  })

  it('a wave that beforeCommit abandons commits nothing: its entries stay held and pending', async () => {
    const { bus, engine, story, feed } = await engineFor(counter, { beforeCommit: () => false })
    await feed([{ key: 'a', payload: {} }])
    expect(await engine.run(engine.readyWave())).toBe(false)
    expect(story).toEqual([])
    expect(engine.size).toBe(1)
    expect(await bus.redis.get(bus.keys.state('counter', 'total'))).toBeNull()
    const pending = (await bus.redis.xpending(bus.keys.stream('tick'), bus.keys.group('counter'))) as [number, ...unknown[]]
    expect(Number(pending[0])).toBe(1)
  })

  it('the group lost twice in a row: the second re-creation starts where the first did, so an entry held then is delivered again', async () => {
    let failures = 1
    const flaky = defineConsumer({
      name: 'flaky',
      subscribes: ['num'],
      handle(event) {
        if (event.key === 'a' && failures-- > 0) throw new Error('flaky')
      },
    })
    const { bus, reader, engine, story, feed, drain } = await engineFor(flaky)
    // a fails and waits for its retry; b, read in the same batch after it, commits.
    await feed([{ key: 'a', payload: {} }, { key: 'b', payload: {} }])
    await drain()
    expect(story).toEqual(['b committed', 'a failed 1: retry'])
    const stream = bus.keys.stream('num')
    const loseGroup = async () => {
      await bus.redis.xgroup('DESTROY', stream, bus.keys.group('flaky'))
      await reader.recoverGroups(engine.forget())
    }
    // The first loss re-creates the group below a; the second comes before anything is read
    // again, when nothing is held: it must not start after b (a would never come back).
    await loseGroup()
    await loseGroup()
    expect(reader.rewound).toBe(true)
    await engine.hold(await reader.readNew(100, 0), reader.rewound)
    await drain()
    expect(story.slice(2)).toEqual(['a committed', 'b committed'])
    expect(engine.size).toBe(0)
    // An empty read: every entry came again. A later loss starts after the last commit again.
    expect(await reader.readNew(100, 0)).toEqual([])
    expect(reader.rewound).toBe(false)
    await loseGroup()
    expect(await reader.readNew(100, 0)).toEqual([])
  })
})
