import { describe, expect, it } from 'vitest'
import { defineConsumer, partitionBus } from '../../src/bus/index.js'
import { streamEntries, testBus, waitFor } from '../support/bus.js'
import { doubler } from '../support/consumers.js'

const fast = { blockMs: 100, visibilityTimeoutMs: 1_000, retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 50 } }

describe('publish and consume', () => {
  it('runs a chain: emitted events carry correlation, causation and a derived id', async () => {
    const bus = await testBus()
    const runners = bus.run([doubler], fast)
    const [published] = await bus.publish([{ type: 'num.added', key: 'a', payload: { n: 21 } }])
    const out = await waitFor(async () => (await streamEntries(bus, 'num.doubled'))[0], { what: 'num.doubled' })
    expect(JSON.parse(out.payload as string)).toEqual({ n: 42 })
    expect(out.correlationId).toBe(published?.correlationId)
    expect(out.causationId).toBe(published?.id)
    expect(out.key).toBe('a')
    expect(await bus.redis.hget(bus.keys.state('double', 'totals'), 'a')).toBe('21')
    await runners.stop()
    expect(await bus.redis.hget(bus.keys.stats('double'), 'handled')).toBe('1')
    // the correlation index lists the input and the output, in order
    const index = await bus.redis.lrange(bus.keys.correlation(published?.correlationId as string), 0, -1)
    expect(index.map((r) => r.split(' ')[0])).toEqual(['num.added', 'num.doubled'])
  })

  it('publishing the same event id twice appends it once', async () => {
    const bus = await testBus()
    const [first] = await bus.publish({ type: 'num.added', key: 'a', payload: { n: 1 } })
    const [again] = await bus.publish({ type: 'num.added', key: 'a', payload: { n: 1 }, id: first?.id as never, correlationId: first?.correlationId as never })
    expect(first?.entryId).toBeTruthy()
    expect(again?.entryId).toBeNull()
    expect(await bus.redis.xlen(bus.keys.stream('num.added'))).toBe(1)
  })

  it('a script Redis forgot (SCRIPT FLUSH, a restart) is sent again, includes and all', async () => {
    const bus = await testBus()
    const [first] = await bus.publish({ type: 'num.added', key: 'a', payload: { n: 1 } })
    await bus.redis.script('FLUSH')
    const [second] = await bus.publish({ type: 'num.added', key: 'a', payload: { n: 2 }, correlationId: first?.correlationId as never })
    expect(second?.entryId).toBeTruthy()
    const index = await bus.redis.lrange(bus.keys.correlation(first?.correlationId as string), 0, -1)
    expect(index).toEqual([`num.added ${first?.entryId}`, `num.added ${second?.entryId}`])
  })

  it('a duplicate delivery (same event id in two entries) changes nothing', async () => {
    const bus = await testBus()
    const seen: string[] = []
    const count = defineConsumer({
      name: 'count',
      subscribes: ['num.added'],
      handle(event, ctx) {
        seen.push(event.id)
        ctx.state.hincrby('sum', 'all', (event.payload as { n: number }).n)
        ctx.emit({ type: 'num.counted', payload: {} })
      },
    })
    const [first] = await bus.publish({ type: 'num.added', key: 'a', payload: { n: 5 } })
    // A second entry with the same envelope, as a re-sent XADD would make.
    const fields = (await bus.redis.xrange(bus.keys.stream('num.added'), '-', '+'))[0]?.[1] as string[]
    await bus.redis.xadd(bus.keys.stream('num.added'), '*', ...fields)
    const runners = bus.run([count], fast)
    await waitFor(async () => (await bus.redis.hget(bus.keys.stats('count'), 'duplicates')) === '1', { what: 'duplicate counted' })
    await runners.stop()
    expect(seen).toEqual([first?.id, first?.id])
    expect(await bus.redis.hget(bus.keys.state('count', 'sum'), 'all')).toBe('5')
    expect(await bus.redis.xlen(bus.keys.stream('num.counted'))).toBe(1)
    const pending = (await bus.redis.xpending(bus.keys.stream('num.added'), 'count')) as [number]
    expect(pending[0]).toBe(0)
  })

  it('a poison event is dead-lettered after exactly 3 attempts while later events flow', async () => {
    const bus = await testBus()
    const attempts: number[] = []
    const handled: number[] = []
    const picky = defineConsumer({
      name: 'picky',
      subscribes: ['num.added'],
      handle(event, ctx) {
        const { n } = event.payload as { n: number }
        if (n === 13) {
          attempts.push(ctx.attempt)
          throw new Error('unlucky number')
        }
        handled.push(n)
      },
    })
    const runners = bus.run([picky], fast)
    await bus.publish([13, 1, 2, 3].map((n) => ({ type: 'num.added', key: `k${n}`, payload: { n } })))
    const dead = await waitFor(async () => (await bus.redis.xrange(bus.keys.deadLetters('picky'), '-', '+'))[0], { what: 'dead letter' })
    await waitFor(() => handled.length === 3)
    await runners.stop()
    expect(attempts).toEqual([1, 2, 3])
    expect(handled.sort()).toEqual([1, 2, 3])
    const f = dead[1]
    const get = (name: string) => f[f.indexOf(name) + 1]
    expect(get('error')).toBe('unlucky number')
    expect(get('attempts')).toBe('3')
    expect(get('stream')).toBe('num.added')
    expect(get('stack')).toContain('unlucky number')
    expect(JSON.parse(get('payload') as string)).toEqual({ n: 13 })
    expect(await bus.redis.hget(bus.keys.stats('picky'), 'deadLettered')).toBe('1')
    expect(await bus.redis.hget(bus.keys.stats('picky'), 'retries')).toBe('2')
    expect((await bus.redis.xpending(bus.keys.stream('num.added'), 'picky'))[0]).toBe(0)
  })
})

describe('partition count', () => {
  it('is stored with the namespace when above 1, taken by later buses, and a different count is refused', async () => {
    const first = await testBus({ partitions: 4 })
    expect(first.partitionCount).toBe(4)
    expect(first.partitions.map((k) => k.prefix)).toEqual([0, 1, 2, 3].map((p) => `{${first.namespace}:${p}}:`))
    expect(first.partitions[0]).toBe(first.keys)
    const third = partitionBus(first, 3)
    expect(third.keys.stream('a')).toBe(`{${first.namespace}:3}:stream:a`)
    expect(third.redis).toBe(first.redis)
    expect(partitionBus(first, 0)).toBe(first)
    const later = await testBus({ namespace: first.namespace })
    expect(later.partitionCount).toBe(4)
    await expect(testBus({ namespace: first.namespace, partitions: 2 })).rejects.toMatchObject({ code: 'E_PARTITIONS_MISMATCH' })
    const plain = await testBus()
    expect(plain.partitionCount).toBe(1)
    expect(await plain.redis.exists(plain.keys.partitions)).toBe(0)
    // A namespace already used with one partition keeps it: its data is under {ns}.
    await plain.publish({ type: 'num.added', key: 'a', payload: { n: 1 } })
    await expect(testBus({ namespace: plain.namespace, partitions: 4 })).rejects.toMatchObject({ code: 'E_PARTITIONS_MISMATCH' })
    expect(await plain.redis.exists(plain.keys.partitions)).toBe(0)
  })
})
