import { describe, expect, it } from 'vitest'
import {
  defineConsumer,
  findDeadLetter,
  listDeadLetters,
  purgeDeadLetters,
  redeliverDeadLetters,
  readCorrelation,
  DEFAULT_RETRY,
  type Bus,
  type ConsumerDefinition,
} from '../../src/bus/index.js'
import { recordFailure } from '../../src/bus/commit.js'
import { decodeEvent } from '../../src/events/index.js'
import { streamEntries, testBus, waitFor } from '../support/bus.js'

const fast = { blockMs: 100, visibilityTimeoutMs: 1_000, retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 } }

/** Sums n per key; n = 13 is poison until `fixed.value` is flipped. */
function summer(fixed: { value: boolean }): ConsumerDefinition {
  return defineConsumer({
    name: 'sum',
    subscribes: ['num.added'],
    emits: ['num.applied'],
    handle(event, ctx) {
      const { n } = event.payload as { n: number }
      if (n === 13 && !fixed.value) throw new Error(`unlucky number ${n}`)
      ctx.state.hincrby('sum', event.key, n)
      ctx.emit({ type: 'num.applied', payload: { n } })
    },
  })
}

describe('dead letters: inspect, fix, replay', () => {
  it('a poison event is dead-lettered; fixed, `dlq replay` delivers it once and removes it', async () => {
    const bus = await testBus()
    const fixed = { value: false }
    const runners = bus.run([summer(fixed)], fast)
    const published = await bus.publish([1, 13, 2].map((n) => ({ type: 'num.added', key: 'k', payload: { n } })))
    await waitFor(async () => (await bus.redis.xlen(bus.keys.deadLetters('sum'))) === 1 && (await bus.redis.xlen(bus.keys.stream('num.applied'))) === 2, { what: 'dead letter' })
    await runners.stop()

    const [summary] = await listDeadLetters(bus)
    expect(summary).toMatchObject({ consumer: 'sum', count: 1, topErrors: [{ error: 'unlucky number 13', count: 1 }] })
    const id = summary?.entries[0]?.id as string
    expect(summary?.oldest?.id).toBe(id)
    const shown = await findDeadLetter(bus, id)
    expect(shown).toMatchObject({ consumer: 'sum', attempts: 3, stream: 'num.added', error: 'unlucky number 13' })
    expect(shown.event?.id).toBe(published[1]?.id)
    expect(shown.stack).toContain('unlucky number 13')
    // A bare entry id finds it too.
    expect((await findDeadLetter(bus, shown.entryId)).id).toBe(id)

    // Still broken: the re-delivery fails again and stays in the DLQ with its new error.
    const again = await redeliverDeadLetters(bus, { consumers: [summer(fixed)], ids: [id] })
    expect(again).toMatchObject({ delivered: 0, failed: 1 })
    const failed = again.results[0]
    if (failed?.outcome !== 'failed') throw new Error('expected a failure')
    expect(await bus.redis.xlen(bus.keys.deadLetters('sum'))).toBe(1)
    expect(await findDeadLetter(bus, failed.newId)).toMatchObject({ attempts: 4, error: 'unlucky number 13' })
    await expect(findDeadLetter(bus, id)).rejects.toMatchObject({ code: 'E_DLQ_NOT_FOUND' })

    // --all while still broken: each dead letter tried once (the re-added one is not met again).
    const all = await redeliverDeadLetters(bus, { consumers: [summer(fixed)], all: true })
    expect(all).toMatchObject({ failed: 1, delivered: 0 })
    expect(all.results).toHaveLength(1)
    expect(await bus.redis.xlen(bus.keys.deadLetters('sum'))).toBe(1)

    // Fixed: delivered once, with its effects, and the dead letter is gone.
    fixed.value = true
    const done = await redeliverDeadLetters(bus, { consumers: [summer(fixed)], all: true })
    expect(done).toMatchObject({ delivered: 1, failed: 0, skipped: 0 })
    expect(await bus.redis.xlen(bus.keys.deadLetters('sum'))).toBe(0)
    expect(await bus.redis.hget(bus.keys.state('sum', 'sum'), 'k')).toBe('16')
    const applied = await streamEntries(bus, 'num.applied')
    expect(applied.map((e) => JSON.parse(e.payload as string).n)).toEqual([1, 2, 13])
    expect(applied[2]?.causationId).toBe(published[1]?.id)
    expect(await bus.redis.hget(bus.keys.stats('sum'), 'deadLettersReplayed')).toBe('1')

    // Replaying again finds nothing; the live consumer does not apply it a second time either.
    expect(await redeliverDeadLetters(bus, { consumers: [summer(fixed)], all: true })).toMatchObject({ delivered: 0, results: [] })
    const later = bus.run([summer(fixed)], fast)
    await bus.publish({ type: 'num.added', key: 'k', payload: { n: 4 } })
    await waitFor(async () => (await bus.redis.hget(bus.keys.state('sum', 'sum'), 'k')) === '20', { what: 'sum 20' })
    await later.stop()
    expect(await bus.redis.xlen(bus.keys.stream('num.applied'))).toBe(4)
  })

  it('a dead letter whose event id is already in the inbox is removed without applying anything', async () => {
    const bus = await testBus()
    const fixed = { value: false }
    const runners = bus.run([summer(fixed)], fast)
    await bus.publish({ type: 'num.added', key: 'k', payload: { n: 13 } })
    await waitFor(async () => (await bus.redis.xlen(bus.keys.deadLetters('sum'))) === 1, { what: 'dead letter' })
    await runners.stop()
    // Copy the dead letter, as a double dead-lettering would: two entries, one event id.
    const [[, fields]] = (await bus.redis.xrange(bus.keys.deadLetters('sum'), '-', '+')) as [[string, string[]]]
    await bus.redis.xadd(bus.keys.deadLetters('sum'), '*', ...fields)
    fixed.value = true
    const result = await redeliverDeadLetters(bus, { consumers: [summer(fixed)], all: true, consumer: 'sum' })
    expect(result).toMatchObject({ delivered: 1, duplicates: 1 })
    expect(await bus.redis.hget(bus.keys.state('sum', 'sum'), 'k')).toBe('13')
    expect(await bus.redis.xlen(bus.keys.stream('num.applied'))).toBe(1)
    expect(await bus.redis.xlen(bus.keys.deadLetters('sum'))).toBe(0)
  })

  it('an entry that cannot be read as an event fails again on re-delivery and stays, with its reason', async () => {
    const bus = await testBus()
    const runners = bus.run([summer({ value: true })], fast)
    await bus.redis.xadd(bus.keys.stream('num.added'), '*', 'id', 'x', 'payload', '{}')
    await waitFor(async () => (await bus.redis.xlen(bus.keys.deadLetters('sum'))) === 1, { what: 'dead letter' })
    await runners.stop()
    const [summary] = await listDeadLetters(bus)
    const dead = await findDeadLetter(bus, summary?.entries[0]?.id as string)
    expect(dead.event).toBeNull()
    expect(dead.undecodable).toContain('has no "type" field')
    const result = await redeliverDeadLetters(bus, { consumers: [summer({ value: true })], all: true })
    expect(result).toMatchObject({ failed: 1, delivered: 0 })
    expect(await bus.redis.xlen(bus.keys.deadLetters('sum'))).toBe(1)
    expect(await bus.redis.xlen(bus.keys.stream('num.applied'))).toBe(0)
  })

  it('skips dead letters of consumers it has no handler for; purge empties the streams', async () => {
    const bus = await testBus()
    const runners = bus.run([summer({ value: false })], fast)
    await bus.publish([13, 13].map((n) => ({ type: 'num.added', key: `k${Math.random()}`, payload: { n } })))
    await waitFor(async () => (await bus.redis.xlen(bus.keys.deadLetters('sum'))) === 2, { what: 'dead letters' })
    await runners.stop()
    const result = await redeliverDeadLetters(bus, { consumers: [], all: true })
    expect(result).toMatchObject({ skipped: 2, delivered: 0 })
    expect(await purgeDeadLetters(bus)).toEqual([{ consumer: 'sum', purged: 2 }])
    expect(await listDeadLetters(bus)).toEqual([])
  })

  it('a dead letter is indexed under its consumer, also where the consumer group has another name', async () => {
    const base = await testBus()
    // Groups bear their consumer's name today; the index row must name the consumer all the
    // same, since trace finds the dead-letter stream by it.
    const bus: Bus = { ...base, keys: { ...base.keys, group: (consumer) => `${consumer}-group` } }
    const [published] = await bus.publish({ type: 'num.added', key: 'k', payload: { n: 13 } })
    const streamKey = bus.keys.stream('num.added')
    await bus.redis.xgroup('CREATE', streamKey, 'sum-group', '0')
    const read = (await bus.redis.xreadgroup('GROUP', 'sum-group', 'instance', 'COUNT', 1, 'STREAMS', streamKey, '>')) as [string, [string, string[]][]][]
    const [entryId, fields] = read[0]?.[1][0] as [string, string[]]
    const held = { streamKey, entryId, fields, event: decodeEvent(fields), invalid: undefined, orderKey: 'k', failures: 0, notBefore: 0 }

    expect(await recordFailure(bus, 'sum', '', held, new Error('poison'), 'poison', DEFAULT_RETRY)).toEqual({ attempts: 1, deadLettered: true })
    const items = await readCorrelation(bus, published?.correlationId as string)
    expect(items.map((i) => i.kind)).toEqual(['event', 'dead-letter'])
    expect(items[1]).toMatchObject({ kind: 'dead-letter', consumer: 'sum', fields: { error: 'poison', consumer: 'sum' } })
    expect((await bus.redis.xpending(streamKey, 'sum-group'))[0]).toBe(0)
  })
})
