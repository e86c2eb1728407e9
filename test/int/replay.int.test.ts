import { describe, expect, it } from 'vitest'
import { defineConsumer, replayConsumer, type ConsumerDefinition } from '../../src/bus/index.js'
import { streamEntries, testBus, waitFor } from '../support/bus.js'

const fast = { blockMs: 100, visibilityTimeoutMs: 1_000, retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 } }

/** Adds n to a per-key total and emits what it applied; `factor` is its "logic". */
function counter(logic: { factor: number }): ConsumerDefinition {
  return defineConsumer({
    name: 'count',
    subscribes: ['num.added', 'num.removed'],
    emits: ['num.counted'],
    handle(event, ctx) {
      const { n } = event.payload as { n: number }
      const by = (event.type === 'num.removed' ? -n : n) * logic.factor
      ctx.state.hincrby('sum', event.key, by)
      ctx.emit({ type: 'num.counted', payload: { n, by } })
    },
  })
}

describe('replay a window through one consumer', () => {
  it('an interrupted replay run again resumes its window and applies nothing twice', async () => {
    const bus = await testBus()
    const logic = { factor: 1 }
    const runners = bus.run([counter(logic)], fast)
    const events = []
    for (let n = 1; n <= 60; n++) events.push({ type: n % 4 === 0 ? 'num.removed' : 'num.added', key: `k${n % 5}`, payload: { n } })
    await bus.publish(events)
    await waitFor(async () => (await bus.redis.xlen(bus.keys.stream('num.counted'))) === 60, { what: '60 counted' })
    await runners.stop()
    const live = (await streamEntries(bus, 'num.counted')).map((e) => e.id as string)
    const liveSums = await bus.redis.hgetall(bus.keys.state('count', 'sum'))
    const groupsBefore = await bus.redis.xinfo('GROUPS', bus.keys.stream('num.added'))

    // The logic changes (factor 10); the replay is interrupted after 25 events.
    logic.factor = 10
    let committed = 0
    const interrupted = replayConsumer(bus, {
      consumer: counter(logic),
      since: 60 * 60 * 1000,
      batchSize: 8,
      beforeCommit: (batch) => {
        if (committed + batch.length > 25) throw new Error('interrupted')
        committed += batch.length
      },
    })
    await expect(interrupted).rejects.toThrow('interrupted')
    expect(await bus.redis.xlen(bus.keys.stream('num.counted'))).toBe(60 + committed)

    // A different window is refused while this one is unfinished.
    await expect(replayConsumer(bus, { consumer: counter(logic), since: 1000 })).rejects.toMatchObject({ code: 'E_REPLAY_UNFINISHED' })

    const progress: number[] = []
    const summary = await replayConsumer(bus, { consumer: counter(logic), since: 60 * 60 * 1000, batchSize: 8, onProgress: (p) => progress.push(p.fraction) })
    expect(summary).toMatchObject({ resumed: true, events: 60, applied: 60 - committed, alreadyApplied: committed, failed: 0, emitted: { 'num.counted': 60 - committed } })
    expect(progress[progress.length - 1]).toBe(1)

    // Every input applied exactly once more: each total moved by 10x its live value.
    const sums = await bus.redis.hgetall(bus.keys.state('count', 'sum'))
    for (const [key, value] of Object.entries(liveSums)) expect(Number(sums[key])).toBe(Number(value) * 11)
    // New ids, each pointing at the live event it replaces; per-key order as published.
    const all = await streamEntries(bus, 'num.counted')
    const replayed = all.slice(60)
    expect(replayed).toHaveLength(60)
    expect(new Set(replayed.map((e) => e.id)).size).toBe(60)
    for (const e of replayed) expect(live).not.toContain(e.id)
    expect(new Set(replayed.map((e) => e.replayOf))).toEqual(new Set(live))
    expect(new Set(replayed.map((e) => e.replayRun))).toEqual(new Set([summary.runId]))
    // Per key and stream, as published (across streams, entry ids order only to the millisecond).
    for (let k = 0; k < 5; k++) {
      for (const removed of [false, true]) {
        const mine = (n: number) => n % 5 === k && (n % 4 === 0) === removed
        const order = replayed.map((e) => JSON.parse(e.payload as string).n as number).filter(mine)
        expect(order).toEqual(events.map((e) => e.payload.n).filter(mine))
      }
    }
    // No consumer group was touched; the run's bookkeeping is gone.
    expect(await bus.redis.xinfo('GROUPS', bus.keys.stream('num.added'))).toEqual(groupsBefore)
    expect(await bus.redis.exists(bus.keys.replayRun('count'), bus.keys.replayInbox('count', summary.runId))).toBe(0)

    // The next replay is a new run: it applies again (and says so).
    const next = await replayConsumer(bus, { consumer: counter(logic), from: '0', dryRun: true })
    expect(next).toMatchObject({ resumed: false, dryRun: true, events: 60, applied: 0 })
    expect(next.runId).not.toBe(summary.runId)
  })

  it('--from/--to bound the window by entry id; events published after the start are left to the live consumer', async () => {
    const bus = await testBus()
    const published = await bus.publish([1, 2, 3, 4, 5].map((n) => ({ type: 'num.added', key: 'k', payload: { n } })))
    const summary = await replayConsumer(bus, { consumer: counter({ factor: 1 }), from: published[1]?.entryId as string, to: published[3]?.entryId as string })
    expect(summary).toMatchObject({ events: 3, applied: 3 })
    expect(await bus.redis.hget(bus.keys.state('count', 'sum'), 'k')).toBe('9')
    await expect(replayConsumer(bus, { consumer: counter({ factor: 1 }), from: 'yesterday-ish' })).rejects.toMatchObject({ code: 'E_REPLAY_BAD_BOUND' })
  })

  it('--rebuild is refused for a consumer that emits; while the consumer runs it rebuilds online (shadow, proof, swap)', async () => {
    const bus = await testBus()
    await expect(replayConsumer(bus, { consumer: counter({ factor: 1 }), rebuild: true })).rejects.toMatchObject({ code: 'E_REPLAY_NOT_PROJECTION' })
    const tally = defineConsumer({ name: 'tally', subscribes: ['num.added'], handle: (event, ctx) => ctx.state.hincrby('n', event.key, 1) })
    const runners = bus.run([tally], fast)
    await bus.publish({ type: 'num.added', key: 'k', payload: { n: 1 } })
    await waitFor(async () => (await bus.redis.hget(bus.keys.state('tally', 'n'), 'k')) === '1', { what: 'tallied' })
    const online = await replayConsumer(bus, { consumer: tally, rebuild: true })
    expect(online).toMatchObject({ applied: 1, droppedStateKeys: 0, online: { proof: { equal: true, swapped: true, renamed: 1, deleted: 0 } } })
    // The live instance takes its lease back after the rebuild's fence.
    await waitFor(async () => (await bus.redis.exists(bus.keys.lease('tally'))) === 1, { what: 'lease taken back' })
    const windowed = await replayConsumer(bus, { consumer: tally, from: '0', dryRun: true })
    expect(windowed.warnings).toEqual(['tally is running: its live writes to its state may interleave with the replay\'s'])
    await runners.stop()
    expect(await replayConsumer(bus, { consumer: tally, rebuild: true })).toMatchObject({ applied: 1, droppedStateKeys: 1, warnings: [] })
    expect(await bus.redis.hget(bus.keys.state('tally', 'n'), 'k')).toBe('1')
  })
})
