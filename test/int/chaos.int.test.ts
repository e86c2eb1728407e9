import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { describe, expect, it, onTestFinished } from 'vitest'
import { defineConsumer, type ConsumerDefinition } from '../../src/bus/index.js'
import { holdBeforeCommit } from '../../src/pipeline/host/chaos-hold.js'
import { startOwnedRedis } from '../../src/redis/index.js'
import { checkAppliedOnce, checkDeadLetters } from '../../src/sim/chaos/checks.js'
import { injectPoison } from '../../src/sim/chaos/poison.js'
import { caughtUp, readingsOf, readTips } from '../../src/sim/chaos/recovery.js'
import { testBus, waitFor } from '../support/bus.js'
import { EVENT } from '../../src/pipeline/types.js'
import { JourneyObserver } from '../../src/sim/observe.js'

const fast = { blockMs: 100, visibilityTimeoutMs: 1_000, retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 } }

function counter(name: string, subscribes: string[], fail?: (n: number) => boolean): ConsumerDefinition {
  return defineConsumer({
    name,
    subscribes,
    handle(event, ctx) {
      const { n } = event.payload as { n?: number }
      // The runtime here checks no contracts: a poison envelope reaches the handler, which refuses it.
      if (typeof n !== 'number') throw new Error('not a number event')
      if (fail?.(n)) throw new Error(`cannot take ${n}`)
      ctx.state.hincrby('seen', event.key, 1)
    },
  })
}

describe('chaos: recovery and the final checks', () => {
  it('caughtUp is false until every group has handled what its streams held at the tips', async () => {
    const bus = await testBus()
    const a = counter('a', ['num.added'])
    const b = counter('b', ['num.added', 'num.other'])
    await bus.publish([1, 2, 3].map((n) => ({ type: 'num.added', key: `k${n}`, payload: { n } })))
    await bus.publish([{ type: 'num.other', key: 'x', payload: { n: 9 } }])
    // Groups exist but nothing is handled yet: not caught up.
    const idle = bus.run([a, b], fast)
    await idle.stop()
    await bus.redis.xgroup('SETID', bus.keys.stream('num.added'), 'a', '0')
    const tips = await readTips(bus, readingsOf(bus, [a, b]))
    expect(await caughtUp(bus, tips)).toBe(false)

    const runners = bus.run([a, b], fast)
    onTestFinished(() => runners.stop())
    await waitFor(() => caughtUp(bus, tips), { what: 'caught up' })
    // Entries after the tips may still be pending: recovery is about what the fault caught.
    await bus.publish([{ type: 'num.added', key: 'k9', payload: { n: 4 } }])
    expect(await caughtUp(bus, tips)).toBe(true)
  })

  it('poison is dead-lettered by every group reading its stream; anything else dead-lettered is a violation', async () => {
    const bus = await testBus()
    const consumers = [counter('a', ['num.added']), counter('b', ['num.added', 'num.other'], (n) => n === 13), counter('c', ['num.other'])]
    const runners = bus.run(consumers, fast)
    onTestFinished(() => runners.stop())
    const poison = await injectPoison(bus, 4, ['num.added'])
    expect(poison.map((p) => p.type)).toEqual(['num.added', 'num.added', 'num.added', 'num.added'])
    await bus.publish([{ type: 'num.other', key: 'k', payload: { n: 13 } }])
    const dead = async () => (await bus.redis.xlen(bus.keys.deadLetters('a'))) + (await bus.redis.xlen(bus.keys.deadLetters('b')))
    await waitFor(async () => (await dead()) === 9, { what: 'poison and the failing event dead-lettered' })

    const { count, violations } = await checkDeadLetters(bus, consumers, poison)
    expect(count).toBe(9)
    expect(violations).toHaveLength(1)
    expect(violations[0]).toMatchObject({ kind: 'unexpected-dead-letter' })
    expect(violations[0]?.detail).toContain('cannot take 13')
    // A poison entry some group did not dead-letter is one too.
    const missed = (await checkDeadLetters(bus, [...consumers, counter('d', ['num.added'])], poison)).violations
    expect(missed.filter((v) => v.kind === 'poison-not-dead-lettered')).toHaveLength(4)
  })

  it('the load observer counts only files the driver published, not poison on a terminal stream', async () => {
    const bus = await testBus()
    const observer = new JourneyObserver(bus)
    observer.start()
    onTestFinished(() => observer.stop())
    await injectPoison(bus, 4, [EVENT.duplicate])
    await waitFor(() => observer.endings.size === 2, { what: 'the two decodable poison endings' })
    expect(observer.ended).toBe(0)
    observer.expect([...observer.endings.keys()][0] as string)
    expect(observer.ended).toBe(1)
  })

  it('a held worker stops right before its commit, says so, and commits once the hold is lifted', async () => {
    const bus = await testBus()
    await bus.redis.set(bus.keys.chaosHold('a'), '1')
    const runners = bus.run([counter('a', ['num.added'])], { ...fast, beforeCommit: holdBeforeCommit(bus) })
    onTestFinished(() => runners.stop())
    await bus.publish([1, 2, 3].map((n) => ({ type: 'num.added', key: `k${n}`, payload: { n } })))
    const held = await waitFor(() => bus.redis.get(bus.keys.chaosHeld('a')), { what: 'the worker to hold' })
    expect(held).toMatch(new RegExp(`^${process.pid} [1-3]$`))
    await new Promise((r) => setTimeout(r, 200))
    expect(await bus.redis.hget(bus.keys.stats('a'), 'handled')).toBeNull()
    await bus.redis.del(bus.keys.chaosHold('a'))
    await waitFor(async () => (await bus.redis.hget(bus.keys.stats('a'), 'handled')) === '3', { what: 'the commit after the hold' })
  })

  it('an event type appended twice for one file is a violation', async () => {
    const bus = await testBus()
    await bus.redis.rpush(bus.keys.correlation('c1'), 'pipeline.file.received 1-0', 'pipeline.file.ingested 2-0', 'dlq:map 3-0')
    await bus.redis.rpush(bus.keys.correlation('c2'), 'pipeline.file.received 4-0', 'pipeline.file.ingested 5-0', 'pipeline.file.ingested 6-0')
    expect(await checkAppliedOnce(bus, ['c1', 'c2', 'c3'])).toEqual([{ kind: 'event-appended-twice', detail: 'file c2: 2 pipeline.file.ingested events' }])
  })
})

describe('a redis-server of our own', () => {
  it('pauses, resumes, and restarts on the same port keeping what was fsynced', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eventspine-owned-'))
    const server = await startOwnedRedis({ dir, appendfsync: 'always' })
    const client = new Redis(server.url, { maxRetriesPerRequest: null })
    onTestFinished(async () => {
      client.disconnect()
      await server.stop()
      rmSync(dir, { recursive: true, force: true })
    })
    await client.set('k', '1')
    server.pause()
    let answered = false
    const reply = client.get('k').then((v) => {
      answered = true
      return v
    })
    await new Promise((r) => setTimeout(r, 300))
    expect(answered).toBe(false)
    server.resume()
    expect(await reply).toBe('1')

    const before = server.pid
    await server.restart('kill')
    expect(server.pid).not.toBe(before)
    expect(await client.get('k')).toBe('1')
    await client.set('k', '2')
    await server.restart('graceful')
    expect(await client.get('k')).toBe('2')
  })
})
