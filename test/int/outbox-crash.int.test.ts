import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { newEventId } from '../../src/events/ids.js'
import { loadContracts } from '../../src/events/index.js'
import { migrateOutbox, OUTBOX_TABLE, writeOutbox } from '../../src/outbox/index.js'
import { startThrowawayPostgres } from '../../src/postgres/server.js'
import { streamEntries, testBus, waitFor } from '../support/bus.js'
import { testRedisUrl } from '../support/namespace.js'

const contractsDir = join(import.meta.dirname, '..', 'check', 'contracts')
const contracts = loadContracts(contractsDir)
const SEED = Number(process.env['OUTBOX_CRASH_SEED'] ?? Math.floor(Math.random() * 2 ** 31))

/** mulberry32: the test's one source of randomness, from SEED, so a failure can be run again. */
function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const stops: (() => Promise<void>)[] = []
afterAll(async () => {
  for (const stop of stops.reverse()) await stop()
})

describe('the outbox under kill -9 of its relay and of Postgres', () => {
  it(`puts every committed row in the stream once and nothing else (seed ${SEED}, OUTBOX_CRASH_SEED to repeat)`, async () => {
    const rand = random(SEED)
    const server = await startThrowawayPostgres({ fsync: false })
    stops.push(() => server.stop())
    const setup = new pg.Client({ connectionString: server.url })
    await setup.connect()
    await migrateOutbox(setup)
    await setup.query('CREATE TABLE ledger (tx integer PRIMARY KEY)')
    await setup.end()
    const bus = await testBus({ contracts })

    let relay: ChildProcess | undefined
    const startRelay = async () => {
      relay = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '..', 'support', 'relay-process.ts'), server.url, testRedisUrl(), bus.namespace, contractsDir], {
        stdio: ['ignore', 'pipe', 'inherit'],
      })
      await once(relay.stdout!, 'data')
    }
    const killRelay = async () => {
      const child = relay
      if (child === undefined || child.exitCode !== null) return
      const exited = once(child, 'exit')
      child.kill('SIGKILL')
      await exited
    }
    stops.push(killRelay)
    await startRelay()

    // Two producers, each with aggregates of its own (so per aggregate their order is the order they wrote).
    const attempted = new Map<number, string[]>()
    const producer = async (first: number, aggregates: readonly string[]) => {
      let client: pg.Client | undefined
      for (let tx = first; tx < first + 60; tx++) {
        try {
          if (client === undefined) {
            client = new pg.Client({ connectionString: server.url, connectionTimeoutMillis: 2_000 })
            client.on('error', () => {})
            await client.connect()
          }
          await client.query('BEGIN')
          await client.query('INSERT INTO ledger VALUES ($1)', [tx])
          const ids: string[] = []
          attempted.set(tx, ids)
          for (let i = 0; i < 1 + Math.floor(rand() * 3); i++) {
            const account = aggregates[Math.floor(rand() * aggregates.length)] as string
            const id = newEventId()
            ids.push(id)
            await writeOutbox(client, { id, type: 'account.credited', key: account, payload: { accountId: account, amount: tx, currency: 'EUR' } }, { contracts })
          }
          await client.query(rand() < 0.2 ? 'ROLLBACK' : 'COMMIT')
        } catch {
          // Postgres died under us: whether this transaction committed, the ledger says.
          await client?.end().catch(() => {})
          client = undefined
          await sleep(50)
        }
      }
      await client?.end().catch(() => {})
    }

    let writing = true
    const chaos = (async () => {
      let kills = { relay: 0, postgres: 0 }
      while (writing) {
        await sleep(50 + rand() * 250)
        if (!writing) break
        if (rand() < 0.7) {
          await killRelay()
          kills = { ...kills, relay: kills.relay + 1 }
          await startRelay()
        } else {
          await server.kill()
          kills = { ...kills, postgres: kills.postgres + 1 }
          await sleep(rand() * 200)
          await server.start()
        }
      }
      return kills
    })()
    await Promise.all([producer(1_000, ['acc-001', 'acc-002', 'acc-003']), producer(2_000, ['acc-004', 'acc-005'])])
    writing = false
    const kills = await chaos

    const check = new pg.Client({ connectionString: server.url })
    await check.connect()
    await waitFor(async () => Number((await check.query(`SELECT count(*) AS n FROM ${OUTBOX_TABLE}`)).rows[0].n) === 0, { what: 'the relay to empty the outbox' })
    const committed = new Set((await check.query('SELECT tx FROM ledger')).rows.map((r) => r.tx as number))
    await check.end()
    const expected = [...committed].flatMap((tx) => attempted.get(tx) ?? [])
    const entries = await streamEntries(bus, 'account.credited')
    const ids = entries.map((e) => e['id'] as string)
    const context = `seed ${SEED}; kills ${JSON.stringify(kills)}; committed ${committed.size} of ${attempted.size} transactions`
    expect(kills.relay + kills.postgres, context).toBeGreaterThan(0)
    expect(new Set(ids).size, `no event twice (${context})`).toBe(ids.length)
    expect([...ids].sort(), `exactly the committed rows (${context})`).toEqual([...expected].sort())
    for (const account of ['acc-001', 'acc-002', 'acc-003', 'acc-004', 'acc-005']) {
      const txs = entries.filter((e) => e['key'] === account).map((e) => JSON.parse(e['payload'] as string).amount as number)
      expect(txs, `order of ${account} (${context})`).toEqual([...txs].sort((a, b) => a - b))
    }
  })
})
