import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadContracts } from '../../src/events/index.js'
import { newEventId } from '../../src/events/ids.js'
import { createRelay, OUTBOX_DEAD_TABLE, OUTBOX_TABLE, writeOutbox, migrateOutbox } from '../../src/outbox/index.js'
import { streamEntries, testBus, waitFor } from '../support/bus.js'
import { testDatabase, testPg } from '../support/postgres.js'

const contracts = loadContracts(join(import.meta.dirname, '..', 'check', 'contracts'))
const credited = (account: number, amount: number) => ({ type: 'account.credited', key: `acc-${String(account).padStart(3, '0')}`, payload: { accountId: `acc-${String(account).padStart(3, '0')}`, amount, currency: 'EUR' } })

async function setup() {
  const url = await testDatabase('relay')
  const db = await testPg(url)
  await migrateOutbox(db)
  await db.query('CREATE TABLE balance (account text PRIMARY KEY, cents bigint NOT NULL)')
  const bus = await testBus({ contracts })
  return { url, db, bus }
}

/** The producer's transaction: its state and its events, or neither. */
async function credit(db: Awaited<ReturnType<typeof testPg>>, rows: ReturnType<typeof credited>[], outcome: 'commit' | 'rollback' = 'commit') {
  await db.query('BEGIN')
  const ids: string[] = []
  for (const row of rows) {
    await db.query('INSERT INTO balance VALUES ($1, $2) ON CONFLICT (account) DO UPDATE SET cents = balance.cents + $2', [row.key, row.payload.amount])
    ids.push(await writeOutbox(db, row, { contracts }))
  }
  await db.query(outcome === 'commit' ? 'COMMIT' : 'ROLLBACK')
  return ids
}

const count = async (db: Awaited<ReturnType<typeof testPg>>, table: string) => Number((await db.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n)

describe('the outbox relay', () => {
  it('publishes each committed row once under its own event id, deletes it, and never sees a rolled-back one', async () => {
    const { url, db, bus } = await setup()
    const committed = await credit(db, [credited(1, 10), credited(2, 20), credited(1, 30)])
    const rolledBack = await credit(db, [credited(3, 40)], 'rollback')
    const relay = createRelay({ url, bus })
    await relay.drain()
    await relay.drain() // a second pass finds nothing to publish again
    await relay.stop()
    const entries = await streamEntries(bus, 'account.credited')
    expect(entries.map((e) => e['id'])).toEqual(committed)
    expect(entries.map((e) => e['id'])).not.toContain(rolledBack[0])
    expect(entries.map((e) => e['key'])).toEqual(['acc-001', 'acc-002', 'acc-001'])
    expect(await count(db, OUTBOX_TABLE)).toBe(0)
  })

  it('wakes on NOTIFY: a row written while it waits is relayed long before its poll would come', async () => {
    const { url, db, bus } = await setup()
    const relay = createRelay({ url, bus, pollMs: 600_000 })
    relay.start()
    await waitFor(async () => (await db.query(`SELECT count(*) AS n FROM pg_stat_activity WHERE query LIKE 'LISTEN%'`)).rows[0].n > 0, { what: 'the relay to LISTEN' })
    await waitFor(async () => (await relay.figures()).backlog === 0, { what: 'the first (empty) claim' })
    const [id] = await credit(db, [credited(7, 70)])
    // The poll is ten minutes away and waitFor gives up at two: only the NOTIFY can bring it.
    await waitFor(async () => (await streamEntries(bus, 'account.credited')).some((e) => e['id'] === id), { what: 'the relayed event' })
    const figures = await relay.figures()
    expect(figures).toMatchObject({ backlog: 0, published: 1, deadLettered: 0 })
    await relay.stop()
  })

  it('moves a row that breaks its contract to the dead-letter table with the reason; the rest flow on', async () => {
    const { url, db, bus } = await setup()
    await credit(db, [credited(1, 10)])
    // Written past writeOutbox (which would refuse it): amount 0 breaks minimum 1.
    await db.query(`INSERT INTO ${OUTBOX_TABLE} (event_id, aggregate, type, version, payload, correlation_id) VALUES ($1, 'acc-002', 'account.credited', 1, $2, $3)`, [
      newEventId(),
      JSON.stringify({ accountId: 'acc-002', amount: 0, currency: 'EUR' }),
      newEventId(),
    ])
    await credit(db, [credited(2, 20)])
    const warnings: string[] = []
    const relay = createRelay({ url, bus, onWarn: (m) => warnings.push(m) })
    await relay.drain()
    await relay.stop()
    const entries = await streamEntries(bus, 'account.credited')
    expect(entries.map((e) => JSON.parse(e['payload'] as string).amount)).toEqual([10, 20])
    const dead = (await db.query(`SELECT aggregate, reason FROM ${OUTBOX_DEAD_TABLE}`)).rows
    expect(dead).toHaveLength(1)
    expect(dead[0].aggregate).toBe('acc-002')
    expect(dead[0].reason).toMatch(/amount/)
    expect(warnings.join('\n')).toMatch(/dead-lettered/)
  })

  it('refuses, in writeOutbox, a payload that breaks its contract before the transaction commits', async () => {
    const { db } = await setup()
    await db.query('BEGIN')
    await expect(writeOutbox(db, { type: 'account.credited', key: 'acc-001', payload: { accountId: 'acc-001', amount: -5, currency: 'EUR' } }, { contracts })).rejects.toMatchObject({ code: 'E_CONTRACT' })
    await db.query('ROLLBACK')
    expect(await count(db, OUTBOX_TABLE)).toBe(0)
  })

  it('republishes nothing new when it crashes after Redis acknowledged and before the delete commits', async () => {
    const { url, db, bus } = await setup()
    const ids = await credit(db, [credited(1, 10), credited(1, 11)])
    let crashes = 0
    const relay = createRelay({
      url,
      bus,
      crashAt: (point) => {
        if (point === 'deleted' && crashes++ === 0) throw new Error('crash')
      },
    })
    await expect(relay.relayOnce()).rejects.toThrow('crash')
    expect(await count(db, OUTBOX_TABLE)).toBe(2) // the delete never committed
    await relay.drain()
    await relay.stop()
    expect((await streamEntries(bus, 'account.credited')).map((e) => e['id'])).toEqual(ids)
  })

  it('shares one table between two relays: every row once, in order per aggregate', async () => {
    const { url, db, bus } = await setup()
    const written: string[][] = []
    for (let tx = 0; tx < 40; tx++) written.push(await credit(db, [credited(tx % 5, tx + 1), credited((tx + 2) % 5, tx + 1)]))
    const relays = [createRelay({ url, bus, batchSize: 7 }), createRelay({ url, bus, batchSize: 5 })]
    await Promise.all(relays.map((r) => r.drain()))
    const published = await Promise.all(relays.map((r) => r.figures()))
    await Promise.all(relays.map((r) => r.stop()))
    const entries = await streamEntries(bus, 'account.credited')
    expect(entries.map((e) => e['id']).sort()).toEqual(written.flat().sort())
    for (const account of ['acc-000', 'acc-001', 'acc-002', 'acc-003', 'acc-004']) {
      const amounts = entries.filter((e) => e['key'] === account).map((e) => JSON.parse(e['payload'] as string).amount as number)
      expect(amounts).toEqual([...amounts].sort((a, b) => a - b))
    }
    expect(published.reduce((sum, f) => sum + f.published, 0)).toBe(80)
  })
})
