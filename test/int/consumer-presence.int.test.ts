import { describe, expect, it } from 'vitest'
import { defineConsumer, GONE_AFTER_MS, registeredConsumers, removeGoneConsumers } from '../../src/bus/index.js'
import { readTopology } from '../../src/pipeline/inspect/index.js'
import { testBus, waitFor } from '../support/bus.js'

const fast = { blockMs: 100 }

const auditor = defineConsumer({ name: 'auditor', subscribes: ['pipeline.file.validated'], emits: ['audit.noted'], handle() {} })
const watcher = defineConsumer({ name: 'watcher', subscribes: ['pipeline.file.validated'], emits: ['watch.noted'], handle() {} })

async function redisNow(bus: Awaited<ReturnType<typeof testBus>>): Promise<number> {
  const [s, us] = await bus.redis.time()
  return Number(s) * 1000 + Math.floor(Number(us) / 1000)
}

describe('consumer registrations expire when no instance is seen', () => {
  it('a running consumer beats; once stopped for a while it is gone: trace stops waiting for it and clean removes it', async () => {
    const bus = await testBus()
    const gone = bus.run([auditor], fast)
    const alive = bus.run([watcher], fast)
    await waitFor(async () => (await registeredConsumers(bus)).length === 2, { what: 'both registered' })
    await gone.stop()
    const later = (await redisNow(bus)) + GONE_AFTER_MS + 1_000

    const now = await registeredConsumers(bus)
    expect(now.map((c) => [c.name, c.gone])).toEqual([['auditor', false], ['watcher', false]])
    expect(now[0]).toMatchObject({ subscribes: ['pipeline.file.validated'], emits: ['audit.noted'], lastSeenAt: expect.stringMatching(/^\d{4}-/) })

    // A minute on, the stopped one is gone; the running one has beaten again meanwhile (its beat is what keeps it).
    await bus.redis.hset(bus.keys.consumersSeen, 'watcher', String(later))
    const then = await registeredConsumers(bus, { now: later })
    expect(then.map((c) => [c.name, c.gone])).toEqual([['auditor', true], ['watcher', false]])
    const topology = await readTopology(bus, { now: later })
    expect(topology.consumers.map((c) => c.name)).toContain('watcher')
    expect(topology.consumers.map((c) => c.name)).not.toContain('auditor')
    // The built-in stages stay whatever the registry says.
    expect(topology.consumers.map((c) => c.name)).toContain('deliver')

    expect(await removeGoneConsumers(bus, { now: later })).toEqual(['auditor'])
    expect(await bus.redis.hkeys(bus.keys.consumers)).toEqual(['watcher'])
    expect(await bus.redis.hkeys(bus.keys.consumersSeen)).toEqual(['watcher'])
    expect(await removeGoneConsumers(bus, { now: later })).toEqual([])
    await alive.stop()
  })

  it('a registration removed while its consumer still runs comes back at the next beat; a row never seen counts as gone', async () => {
    const bus = await testBus()
    await bus.redis.hset(bus.keys.consumers, 'old', JSON.stringify({ subscribes: ['a'], emits: ['b'] }))
    expect(await registeredConsumers(bus)).toEqual([{ name: 'old', subscribes: ['a'], emits: ['b'], lastSeenAt: null, gone: true }])
    expect(await removeGoneConsumers(bus, { only: ['other'] })).toEqual([])
    expect(await removeGoneConsumers(bus, { only: ['old'] })).toEqual(['old'])
    const runners = bus.run([watcher], fast)
    await waitFor(async () => (await registeredConsumers(bus)).length === 1, { what: 'watcher registered' })
    await bus.redis.hdel(bus.keys.consumers, 'watcher')
    await waitFor(async () => (await registeredConsumers(bus)).some((c) => c.name === 'watcher'), { what: 'the next beat' })
    await runners.stop()
  })
})
