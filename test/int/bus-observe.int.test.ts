import { describe, expect, it } from 'vitest'
import { consumerStatus, createBus, defineConsumer, listDeadLetters, permissiveContracts, purgeDeadLetters, readCorrelation, trimStream } from '../../src/bus/index.js'
import { stageFigures } from '../../src/pipeline/host/figures.js'
import { stageLine } from '../../src/ui/format.js'
import { startTestRedis } from '../support/redis-server.js'
import { testBus, waitFor } from '../support/bus.js'

const fast = { blockMs: 100, visibilityTimeoutMs: 600, retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 } }

const relay = defineConsumer({
  name: 'relay',
  subscribes: ['a.happened'],
  emits: ['b.happened'],
  handle(event, ctx) {
    if ((event.payload as { poison?: boolean }).poison) throw new Error('cannot relay poison')
    ctx.emit({ type: 'b.happened', payload: event.payload })
  },
})

describe('retention', () => {
  it('trims to the policy but never past an entry a group has not acknowledged', async () => {
    const bus = await testBus()
    const stream = bus.keys.stream('a.happened')
    await bus.publish(Array.from({ length: 10 }, (_, i) => ({ type: 'a.happened', key: 'k', payload: { i } })))
    await bus.redis.xgroup('CREATE', stream, 'slow', '0')
    await bus.redis.xreadgroup('GROUP', 'slow', 'c', 'COUNT', 4, 'STREAMS', stream, '>')
    const ids = (await bus.redis.xrange(stream, '-', '+')).map(([id]) => id)
    await bus.redis.xack(stream, 'slow', ids[0] as string, ids[1] as string) // 2 acked, 2 pending, 6 undelivered
    const result = await trimStream(bus, 'a.happened', { maxLen: 1 })
    expect(result).toEqual({ stream: 'a.happened', trimmed: 2, heldBackBy: 'slow' })
    expect((await bus.redis.xrange(stream, '-', '+'))[0]?.[0]).toBe(ids[2])
    // once everything is acknowledged, the policy applies in full
    await bus.redis.xreadgroup('GROUP', 'slow', 'c', 'STREAMS', stream, '>')
    await bus.redis.xack(stream, 'slow', ...(ids.slice(2) as string[]))
    expect(await trimStream(bus, 'a.happened', { maxLen: 3 })).toMatchObject({ trimmed: 5, heldBackBy: null })
  })
})

describe('status and the correlation index', () => {
  it('reports counters and lag, and lists a file journey with its dead letters', async () => {
    const bus = await testBus()
    const [good, bad] = await bus.publish([
      { type: 'a.happened', key: 'k1', payload: { n: 1 } },
      { type: 'a.happened', key: 'k2', payload: { poison: true } },
    ])
    const before = await consumerStatus(bus, [relay])
    expect(before[0]).toMatchObject({ consumer: 'relay', handled: 0, lag: 0, pending: 0 }) // no group yet
    const runners = bus.run([relay], fast)
    await waitFor(async () => (await bus.redis.xlen(bus.keys.deadLetters('relay'))) === 1)
    await runners.stop()
    const [status] = await consumerStatus(bus, [relay])
    expect(status).toMatchObject({ handled: 1, retries: 2, deadLettered: 1, deadLetterBacklog: 1, lag: 0, pending: 0 })
    const journey = await readCorrelation(bus, good?.correlationId as string)
    expect(journey.map((i) => (i.kind === 'event' ? i.type : 'dlq'))).toEqual(['a.happened', 'b.happened'])
    const first = journey[0]
    expect(first?.kind === 'event' && first.event?.id).toBe(good?.id)

    const failed = await readCorrelation(bus, bad?.correlationId as string)
    expect(failed).toHaveLength(2)
    const dead = failed[1]
    expect(dead?.kind).toBe('dead-letter')
    if (dead?.kind === 'dead-letter') {
      expect(dead.consumer).toBe('relay')
      expect(dead.fields?.error).toBe('cannot relay poison')
      expect(dead.fields?.attempts).toBe('3')
    }
    expect(await readCorrelation(bus, 'no-such-id')).toEqual([])
    // DEAD shows what the dead-letter stream holds now: after a purge, 0, as `dlq list` says.
    const [figures] = stageFigures([status as never], new Map(), null)
    expect(figures).toMatchObject({ deadLetterBacklog: 1, reads: ['a.happened'], p50Ms: null, p99Ms: null })
    await purgeDeadLetters(bus, { consumer: 'relay' })
    expect(await listDeadLetters(bus)).toEqual([])
    const [purged] = stageFigures(await consumerStatus(bus, [relay]), new Map(), null)
    expect(purged).toMatchObject({ deadLettered: 1, deadLetterBacklog: 0 })
    expect(stageLine('T', purged as never)).toContain(' dead=0 p50=- p99=-')
  })
})

describe('memory pressure', () => {
  it('publishing waits with a clear warning when Redis is out of memory, and drops nothing', async () => {
    const server = await startTestRedis({ extraArgs: ['--maxmemory', '4mb', '--maxmemory-policy', 'noeviction'] })
    const warnings: string[] = []
    try {
      const bus = await createBus({ url: server.url, namespace: 'oom', contracts: permissiveContracts, warn: (m) => void warnings.push(m) })
      const big = 'x'.repeat(200_000)
      let published = 0
      const publishing = (async () => {
        for (let i = 0; i < 40; i++) {
          await bus.publish({ type: 'a.happened', key: 'k', payload: { big, i } })
          published++
        }
      })()
      await waitFor(() => warnings.length > 0, { what: 'an out-of-memory warning' })
      expect(warnings[0]).toMatch(/out of memory.*nothing is dropped/)
      // free memory as a consumer catching up with retention would, and publishing resumes
      const before = published
      await bus.redis.config('SET', 'maxmemory', '0')
      await publishing
      expect(before).toBeLessThan(40)
      expect(await bus.redis.xlen(bus.keys.stream('a.happened'))).toBe(40)
      await bus.close()
    } finally {
      await server.stop()
    }
  })
})
