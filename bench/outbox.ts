// The outbox relay's throughput next to a plain XADD loop, in one run on one redis-server:
//   npx tsx bench/outbox.ts [--rows 20000] [--rounds 3]
// relay: rows already committed in the outbox table, timed from the relay's start until every
// row is in the stream (claimed, validated, published idempotently, deleted: end to end).
// xadd: the same number of events XADDed to a stream, pipelined 500 at a time (the relay's batch).
import pg from 'pg'
import { Redis } from 'ioredis'
import { createBus, permissiveContracts } from '../src/bus/index.js'
import { encodeEvent } from '../src/events/envelope.js'
import { newCorrelationId, newEventId } from '../src/events/ids.js'
import { createRelay, migrateOutbox, OUTBOX_TABLE } from '../src/outbox/index.js'
import { startThrowawayPostgres } from '../src/postgres/server.js'
import { startBenchRedis } from './support/redis.js'

const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`)
  return at > 0 ? Number(process.argv[at + 1]) : fallback
}
const ROWS = arg('rows', 20_000)
const ROUNDS = arg('rounds', 1)
const payload = (i: number) => ({ accountId: `acc-${i % 100}`, amount: i, currency: 'EUR', memo: 'x'.repeat(150) })

const redis = await startBenchRedis()
const postgres = await startThrowawayPostgres({ fsync: false })
const db = new pg.Client({ connectionString: postgres.url })
await db.connect()
await migrateOutbox(db)

/** Rows written in transactions of 500 (untimed), as producers would have committed them. */
async function fill(): Promise<void> {
  for (let start = 0; start < ROWS; start += 500) {
    const n = Math.min(500, ROWS - start)
    const ids = Array.from({ length: n }, () => newEventId())
    await db.query(
      `INSERT INTO ${OUTBOX_TABLE} (event_id, aggregate, type, version, payload, correlation_id)
       SELECT id, 'acc-' || (i % 100), 'bench.credited', 1, jsonb_build_object('accountId', 'acc-' || (i % 100), 'amount', i, 'currency', 'EUR', 'memo', repeat('x', 150)), gen_random_uuid()
       FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, i)`,
      [ids],
    )
  }
}

async function relayRound(): Promise<number> {
  await redis.flush()
  await fill()
  const bus = await createBus({ url: redis.url, namespace: 'bench-outbox', contracts: permissiveContracts, warn: () => {} })
  const relay = createRelay({ url: postgres.url, bus, migrate: false })
  const started = performance.now()
  await relay.drain()
  const seconds = (performance.now() - started) / 1000
  const landed = await bus.redis.xlen(bus.keys.stream('bench.credited'))
  if (landed !== ROWS) throw new Error(`relay: ${landed} of ${ROWS} rows in the stream`)
  await relay.stop()
  await bus.close()
  return ROWS / seconds
}

async function xaddRound(): Promise<number> {
  await redis.flush()
  const client = new Redis(redis.url)
  const now = new Date().toISOString()
  const started = performance.now()
  for (let start = 0; start < ROWS; start += 500) {
    const pipeline = client.pipeline()
    for (let i = start; i < Math.min(ROWS, start + 500); i++) {
      const fields = encodeEvent({ id: newEventId(), type: 'bench.credited', version: 1, source: 'bench', occurredAt: now, correlationId: newCorrelationId(), causationId: '', key: `acc-${i % 100}`, payload: payload(i) })
      pipeline.xadd('{bench-xadd}:stream:bench.credited', '*', ...fields)
    }
    await pipeline.exec()
  }
  const seconds = (performance.now() - started) / 1000
  client.disconnect()
  return ROWS / seconds
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number
const relays: number[] = []
const xadds: number[] = []
try {
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate the order so neither always runs on a cold (or tired) machine.
    if (round % 2 === 0) {
      relays.push(await relayRound())
      xadds.push(await xaddRound())
    } else {
      xadds.push(await xaddRound())
      relays.push(await relayRound())
    }
    process.stderr.write(`round ${round + 1}: relay ${Math.round(relays.at(-1) as number)} rows/s, xadd ${Math.round(xadds.at(-1) as number)} events/s\n`)
  }
  const r = median(relays)
  const x = median(xadds)
  console.log(`${ROWS.toLocaleString('en-US')} rows, ${ROUNDS} round(s), medians:`)
  console.log(`  relay (outbox -> stream, end to end)  ${Math.round(r).toLocaleString('en-US')} rows/s`)
  console.log(`  plain XADD loop (pipelined by 500)    ${Math.round(x).toLocaleString('en-US')} events/s`)
  console.log(`  relay / xadd                          ${(r / x).toFixed(2)}`)
} finally {
  await db.end()
  await postgres.stop()
  await redis.stop()
}
