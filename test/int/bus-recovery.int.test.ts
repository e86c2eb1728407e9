import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { TransientError, createBus, defineConsumer, pauseConsumer, permissiveContracts, resumeConsumer, type ConsumerDefinition } from '../../src/bus/index.js'
import { startTestRedis } from '../support/redis-server.js'
import { testBus, waitFor } from '../support/bus.js'

const fast = { blockMs: 100, visibilityTimeoutMs: 600, retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 40 } }

/** A consumer that sums numbers per key and records the order it applied them in. */
function summer(name = 'sum', hooks: { fail?: (n: number, attempt: number) => boolean } = {}): ConsumerDefinition {
  return defineConsumer({
    name,
    subscribes: ['num.added'],
    handle(event, ctx) {
      const { n } = event.payload as { n: number }
      if (hooks.fail?.(n, ctx.attempt)) throw new Error(`transient failure on ${n}`)
      ctx.state.hincrby('sum', event.key, n)
      ctx.emit({ type: 'num.applied', payload: { n } })
    },
  })
}

async function appliedOrder(bus: Awaited<ReturnType<typeof testBus>>): Promise<Record<string, number[]>> {
  const entries = (await bus.redis.xrange(bus.keys.stream('num.applied'), '-', '+')) as [string, string[]][]
  const out: Record<string, number[]> = {}
  for (const [, f] of entries) {
    const key = f[f.indexOf('key') + 1] as string
    ;(out[key] ??= []).push((JSON.parse(f[f.indexOf('payload') + 1] as string) as { n: number }).n)
  }
  return out
}

describe('crash, retry and order', () => {
  it('a consumer killed between handling and commit has its entries reclaimed and applied once', async () => {
    const bus = await testBus()
    let crashed = false
    const first = bus.run([summer()], {
      ...fast,
      beforeCommit: (runner) => {
        if (!crashed) {
          crashed = true
          runner.kill()
        }
      },
    })
    await bus.publish([1, 2, 3].map((n) => ({ type: 'num.added', key: 'k', payload: { n } })))
    await waitFor(() => crashed, { what: 'crash' })
    await first.runners[0]?.done
    // Nothing was committed by the dead instance; its entries sit in its pending list.
    expect(await bus.redis.hget(bus.keys.state('sum', 'sum'), 'k')).toBeNull()
    const second = bus.run([summer()], fast)
    await waitFor(async () => (await bus.redis.hget(bus.keys.state('sum', 'sum'), 'k')) === '6', { what: 'sum 6' })
    await second.stop()
    expect(await appliedOrder(bus)).toEqual({ k: [1, 2, 3] })
    expect(await bus.redis.hget(bus.keys.stats('sum'), 'handled')).toBe('3')
  })

  it('per-key order holds under retries while other keys proceed', async () => {
    const bus = await testBus()
    const failures = new Map<number, number>()
    const runners = bus.run(
      [
        // every multiple of 3 fails twice, then succeeds
        summer('sum', {
          fail: (n) => {
            if (n % 3 !== 0 || (failures.get(n) ?? 0) >= 2) return false
            failures.set(n, (failures.get(n) ?? 0) + 1)
            return true
          },
        }),
      ],
      fast,
    )
    const events = []
    for (let n = 1; n <= 30; n++) events.push({ type: 'num.added', key: `k${n % 3}`, payload: { n } })
    await bus.publish(events)
    await waitFor(async () => (await bus.redis.xlen(bus.keys.stream('num.applied'))) === 30, { what: '30 applied' })
    await runners.stop()
    const order = await appliedOrder(bus)
    for (const key of ['k0', 'k1', 'k2']) {
      const expected = events.filter((e) => e.key === key).map((e) => e.payload.n)
      expect(order[key]).toEqual(expected)
    }
    expect(await bus.redis.hget(bus.keys.stats('sum'), 'retries')).toBe('20')
  })

  it("counts attempts itself: Redis's delivery count (raised by XCLAIM) does not dead-letter early", async () => {
    const bus = await testBus()
    let calls = 0
    const flaky = summer('sum', { fail: (_n, attempt) => (calls++, attempt < 3) })
    await bus.publish({ type: 'num.added', key: 'k', payload: { n: 7 } })
    // Inflate the delivery count as other tools do (read then XCLAIM many times).
    await bus.redis.xgroup('CREATE', bus.keys.stream('num.added'), 'sum', '0', 'MKSTREAM')
    await bus.redis.xreadgroup('GROUP', 'sum', 'other', 'STREAMS', bus.keys.stream('num.added'), '>')
    const [[id]] = (await bus.redis.xrange(bus.keys.stream('num.added'), '-', '+')) as unknown as [[string]]
    for (let i = 0; i < 5; i++) await bus.redis.xclaim(bus.keys.stream('num.added'), 'sum', 'other', 0, id)
    const [[, , , deliveries]] = (await bus.redis.xpending(bus.keys.stream('num.added'), 'sum', '-', '+', 10)) as [[string, string, number, number]]
    expect(deliveries).toBe(6)
    const runners = bus.run([flaky], fast)
    await waitFor(async () => (await bus.redis.hget(bus.keys.state('sum', 'sum'), 'k')) === '7', { what: 'applied' })
    await runners.stop()
    expect(calls).toBe(3)
    expect(await bus.redis.xlen(bus.keys.deadLetters('sum'))).toBe(0)
  })

  it('an entry trimmed while pending is dead-lettered, not silently lost', async () => {
    const bus = await testBus()
    const stream = bus.keys.stream('num.added')
    await bus.publish([1, 2].map((n) => ({ type: 'num.added', key: 'k', payload: { n } })))
    await bus.redis.xgroup('CREATE', stream, 'sum', '0')
    await bus.redis.xreadgroup('GROUP', 'sum', 'dead-instance', 'STREAMS', stream, '>')
    await bus.redis.xtrim(stream, 'MAXLEN', 0) // what a careless MAXLEN does
    const runners = bus.run([summer()], fast)
    await waitFor(async () => (await bus.redis.xlen(bus.keys.deadLetters('sum'))) === 2, { what: '2 dead letters' })
    await runners.stop()
    const dead = (await bus.redis.xrange(bus.keys.deadLetters('sum'), '-', '+')) as [string, string[]][]
    expect(dead[0]?.[1].join(' ')).toContain('deleted (trimmed)')
  })
})

describe('Redis going away', () => {
  it('Redis restarted mid-run (AOF on) loses no acknowledged work', async () => {
    const server = await startTestRedis({ appendfsync: 'always' })
    try {
      const bus = await createBus({ url: server.url, namespace: 'restart', contracts: permissiveContracts, warn: () => {} })
      const runners = bus.run([summer()], { ...fast, watchdogGraceMs: 500 })
      await bus.publish(Array.from({ length: 50 }, (_, i) => ({ type: 'num.added', key: `k${i % 5}`, payload: { n: 1 } })))
      await waitFor(async () => Number(await bus.redis.hget(bus.keys.stats('sum'), 'handled')) >= 10, { what: 'some handled' })
      await server.restart({ signal: 'SIGKILL' })
      await bus.publish(Array.from({ length: 50 }, (_, i) => ({ type: 'num.added', key: `k${i % 5}`, payload: { n: 1 } })))
      await waitFor(
        async () => {
          const sums = await bus.redis.hvals(bus.keys.state('sum', 'sum'))
          return sums.reduce((a, b) => a + Number(b), 0) === 100
        },
        { what: 'all 100 applied' },
      )
      await sleep(300)
      const sums = await bus.redis.hvals(bus.keys.state('sum', 'sum'))
      expect(sums.reduce((a, b) => a + Number(b), 0)).toBe(100)
      expect(await bus.redis.xlen(bus.keys.stream('num.applied'))).toBe(100)
      await runners.stop()
      await bus.close()
    } finally {
      await server.stop()
    }
  })

  it('Redis restarted without its data: the group is recreated from the last position, with a warning', async () => {
    const server = await startTestRedis()
    const warnings: string[] = []
    try {
      const bus = await createBus({ url: server.url, namespace: 'wiped', contracts: permissiveContracts, warn: (m) => void warnings.push(m) })
      const runners = bus.run([summer()], { ...fast, watchdogGraceMs: 500 })
      await bus.publish({ type: 'num.added', key: 'k', payload: { n: 1 } })
      await waitFor(async () => (await bus.redis.hget(bus.keys.stats('sum'), 'handled')) === '1')
      await bus.redis.flushall()
      await bus.publish({ type: 'num.added', key: 'k', payload: { n: 2 } })
      await waitFor(async () => (await bus.redis.hget(bus.keys.state('sum', 'sum'), 'k')) === '2', { what: 'handled after wipe' })
      expect(warnings.join('\n')).toMatch(/consumer group sum on .* was missing .* recreated from entry \d+-\d+/)
      await runners.stop()
      await bus.close()
    } finally {
      await server.stop()
    }
  })

  it('the group lost twice while paused: the second re-creation starts where the first did, so the entry held then still comes', async () => {
    const warnings: string[] = []
    const bus = await testBus({ warn: (m) => void warnings.push(m) })
    let down = true
    const flaky = defineConsumer({
      ...summer(),
      handle(event, ctx) {
        if (event.key === 'a' && down) throw new TransientError('the dependency is down')
        return summer().handle(event, ctx)
      },
    })
    const runners = bus.run([flaky], fast)
    await bus.publish([{ type: 'num.added', key: 'a', payload: { n: 1 } }, { type: 'num.added', key: 'b', payload: { n: 2 } }])
    // b commits; a, read before it, keeps failing; paused by hand, the runner holds a and reads nothing.
    await waitFor(async () => (await bus.redis.hget(bus.keys.state('sum', 'sum'), 'b')) === '2', { what: 'b applied' })
    await pauseConsumer(bus, 'sum')
    const stream = bus.keys.stream('num.added')
    const recreations = () => warnings.filter((w) => w.includes('recreated from entry'))
    await bus.redis.xgroup('DESTROY', stream, bus.keys.group('sum'))
    await waitFor(() => recreations().length === 1, { what: 'the group re-created below a' })
    // Lost again before anything is read (a is no longer held): not re-created after b.
    await bus.redis.xgroup('DESTROY', stream, bus.keys.group('sum'))
    await waitFor(() => recreations().length === 2, { what: 'the group re-created again' })
    const from = recreations().map((w) => / recreated from entry (\S+)$/.exec(w)?.[1])
    expect(from[1]).toBe(from[0])
    down = false
    await resumeConsumer(bus, 'sum')
    await waitFor(async () => (await bus.redis.hget(bus.keys.state('sum', 'sum'), 'a')) === '1', { what: 'a applied after the second re-creation' })
    await runners.stop()
    expect(await appliedOrder(bus)).toEqual({ a: [1], b: [2] })
  })

  it('client connections killed mid-BLOCK: the runner reconnects and carries on', async () => {
    // A server of its own: killing every client of the shared one would hit other test files.
    const server = await startTestRedis()
    try {
      const bus = await testBus({ url: server.url })
      const runners = bus.run([summer()], { ...fast, watchdogGraceMs: 300 })
      await bus.publish({ type: 'num.added', key: 'k', payload: { n: 1 } })
      await waitFor(async () => (await bus.redis.hget(bus.keys.stats('sum'), 'handled')) === '1')
      const admin = bus.connect()
      await admin.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes')
      await bus.publish({ type: 'num.added', key: 'k', payload: { n: 2 } })
      await waitFor(async () => (await bus.redis.hget(bus.keys.state('sum', 'sum'), 'k')) === '3', { what: 'handled after kill' })
      await runners.stop()
      await bus.close()
    } finally {
      await server.stop()
    }
  })

  it('a read connection killed mid-BLOCK resumes at once, quietly, without waiting for the watchdog', async () => {
    const warnings: string[] = []
    const bus = await testBus({ warn: (m) => void warnings.push(m) })
    // The watchdog would fire after 40 s: only the connection's close can end the lost read.
    const name = `sum-${bus.namespace.slice(-6)}` // its read connection is named `${name}:read`
    const runners = bus.run([summer(name)], { ...fast, blockMs: 10_000, watchdogGraceMs: 30_000 })
    await bus.publish({ type: 'num.added', key: 'k', payload: { n: 1 } })
    await waitFor(async () => (await bus.redis.hget(bus.keys.stats(name), 'handled')) === '1')
    const blocked = await waitFor(async () => {
      const clients = (await bus.redis.client('LIST')) as string
      const line = clients.split('\n').find((l) => l.includes(` name=${name}:read `) && / flags=\S*b/.test(l) && l.includes(' cmd=xreadgroup '))
      return line && /^id=(\d+) /.exec(line)?.[1]
    }, { what: 'the read blocked' })
    await bus.redis.client('KILL', 'ID', blocked)
    await bus.publish({ type: 'num.added', key: 'k', payload: { n: 2 } })
    await waitFor(async () => (await bus.redis.hget(bus.keys.state(name, 'sum'), 'k')) === '3', { what: 'handled after the kill' })
    await runners.stop()
    expect(warnings).toEqual([])
  })

  it('a Redis frozen mid-BLOCK trips the read watchdog: the read connection is re-made and work resumes', async () => {
    const server = await startTestRedis()
    try {
      const bus = await createBus({ url: server.url, namespace: 'frozen', contracts: permissiveContracts, warn: () => {} })
      const runners = bus.run([summer()], { ...fast, watchdogGraceMs: 200 })
      await bus.publish({ type: 'num.added', key: 'k', payload: { n: 1 } })
      await waitFor(async () => (await bus.redis.hget(bus.keys.stats('sum'), 'handled')) === '1')
      const before = await readConnectionId(bus)
      server.process.kill('SIGSTOP')
      await sleep(3_000)
      server.process.kill('SIGCONT')
      await bus.publish({ type: 'num.added', key: 'k', payload: { n: 2 } })
      await waitFor(async () => (await bus.redis.hget(bus.keys.state('sum', 'sum'), 'k')) === '3', { what: 'handled after the freeze' })
      // Re-made during the freeze (accepted when Redis resumed), not the one from before it.
      expect(before).toEqual(expect.any(String))
      expect(await readConnectionId(bus)).not.toBe(before)
      await runners.stop()
      await bus.close()
    } finally {
      server.process.kill('SIGCONT')
      await server.stop()
    }
  })

  it('an unreachable Redis fails fast with one clear error and no password', async () => {
    await expect(createBus({ url: 'redis://:hunter2@127.0.0.1:1', namespace: 'x' })).rejects.toSatisfy((error: Error & { code?: string }) => {
      return error.code === 'E_REDIS_UNREACHABLE' && !JSON.stringify({ m: error.message, s: error.stack, e: error }).includes('hunter2')
    })
  })

  it('refuses a Redis that may evict keys, with the command that fixes it', async () => {
    const server = await startTestRedis({ extraArgs: ['--maxmemory-policy', 'allkeys-lru'] })
    try {
      await expect(createBus({ url: server.url, namespace: 'evict' })).rejects.toMatchObject({
        code: 'E_REDIS_EVICTION_POLICY',
        hint: expect.stringContaining('CONFIG SET maxmemory-policy noeviction'),
      })
    } finally {
      await server.stop()
    }
  })
})

describe('Redis losing writes under a running consumer', () => {
  it('applies nothing for held entries that are no longer pending, and says so', async () => {
    const warnings: string[] = []
    const bus = await testBus({ warn: (m) => void warnings.push(m) })
    let vanish: (() => Promise<void>) | undefined
    const runners = bus.run([summer()], {
      ...fast,
      // Between handling and commit, the entries disappear from the group's pending list, as
      // after a restart without the last writes or a failover to a lagging replica.
      beforeCommit: async () => {
        await vanish?.()
        vanish = undefined
      },
    })
    vanish = async () => {
      const stream = bus.keys.stream('num.added')
      const ids = (await bus.redis.xrange(stream, '-', '+')).map(([id]) => id)
      await bus.redis.xack(stream, 'sum', ...ids)
    }
    await bus.publish([1, 2].map((n) => ({ type: 'num.added', key: 'k', payload: { n } })))
    await waitFor(async () => (await bus.redis.hget(bus.keys.stats('sum'), 'stale')) !== null, { what: 'stale counted' })
    await bus.publish({ type: 'num.added', key: 'k', payload: { n: 4 } })
    await waitFor(async () => (await bus.redis.hget(bus.keys.state('sum', 'sum'), 'k')) === '4', { what: 'the next event applied' })
    await runners.stop()
    expect(await bus.redis.xlen(bus.keys.stream('num.applied'))).toBe(1)
    expect(warnings.join('\n')).toMatch(/no longer pending in Redis/)
  })
})

/** The id Redis gave the runner's blocking-read connection (CLIENT LIST, by its name). */
async function readConnectionId(bus: Awaited<ReturnType<typeof testBus>>): Promise<string | undefined> {
  const clients = (await bus.redis.client('LIST')) as string
  const read = clients.split('\n').find((line) => line.includes(' name=sum:read '))
  return /^id=(\d+) /.exec(read ?? '')?.[1]
}
