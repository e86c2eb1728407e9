import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import type { Bus } from '../bus/bus.js'
import { publishEvents } from '../bus/publish.js'
import type { NewEvent } from '../bus/types.js'
import { errorMessage } from '../errors.js'
import { encodeEvent, type EventEnvelope } from '../events/envelope.js'
import type { CorrelationId, EventId } from '../events/ids.js'
import { redact } from '../redis/redact.js'
import { migrateOutbox, OUTBOX_CHANNEL, OUTBOX_DEAD_TABLE, OUTBOX_TABLE } from './table.js'

/** Where the harness may crash a relay: after its claim, after Redis acknowledged, after the delete (before commit). */
export type RelayPoint = 'claimed' | 'published' | 'deleted'

export interface RelayOptions {
  /** A postgres:// URL. */
  readonly url: string
  readonly bus: Bus
  /** Rows per claim. Default 500. */
  readonly batchSize?: number
  /** The slow poll for a missed NOTIFY (a dropped LISTEN connection). Default 5 s. */
  readonly pollMs?: number
  readonly onWarn?: (message: string) => void
  /** Fault injection (the harness): throws to crash the relay at a point; its connection then dies as a process's would. */
  readonly crashAt?: (point: RelayPoint) => void | Promise<void>
  /** Default true: run the migration when the relay starts. */
  readonly migrate?: boolean
}

/** What `/metrics` and the dashboard show of a relay. */
export interface RelayFigures {
  /** Rows waiting in the outbox (all relays). */
  readonly backlog: number
  /** Age of the oldest waiting row, in seconds; 0 when none waits. */
  readonly lagSeconds: number
  /** Rows this relay published since it started. */
  readonly published: number
  /** Rows in the dead-letter table (all relays). */
  readonly deadLettered: number
  /** Published per second by this relay over the last RATE_WINDOW_S seconds. */
  readonly perSecond: number
}

export interface Relay {
  /** Relays until stop(): wakes on NOTIFY, polls slowly in case one was missed. */
  start(): void
  /** One claim: publishes (or dead-letters) what it took and deletes it; returns the rows it took. */
  relayOnce(): Promise<number>
  /** Relays until the table is empty (tests, the harness). */
  drain(): Promise<void>
  figures(): Promise<RelayFigures>
  stop(): Promise<void>
}

interface OutboxRow {
  seq: string
  event_id: string
  aggregate: string
  type: string
  version: number
  payload: unknown
  correlation_id: string
  causation_id: string
  source: string
  occurred_at: Date
}

/**
 * The claim. SKIP LOCKED lets relays share the table; a row is kept only when no older row of
 * its aggregate is outside this claim (held by another relay), so two relays never publish one
 * aggregate's rows out of order. Rows left out stay locked until commit. Such older rows all
 * lie below the claim's highest seq: one range scan of the primary key finds them, however
 * long the table.
 */
const CLAIM = `
WITH claimed AS (
  SELECT * FROM ${OUTBOX_TABLE} ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED
), held_elsewhere AS (
  SELECT o.aggregate, min(o.seq) AS seq FROM ${OUTBOX_TABLE} o
  WHERE o.seq < (SELECT max(seq) FROM claimed) AND NOT EXISTS (SELECT 1 FROM claimed k WHERE k.seq = o.seq)
  GROUP BY o.aggregate
)
SELECT c.* FROM claimed c LEFT JOIN held_elsewhere h ON h.aggregate = c.aggregate
WHERE h.seq IS NULL OR c.seq < h.seq
ORDER BY c.seq`

/** The row as the envelope it publishes: every field was fixed when the row was written, so a republish is the same event. */
function toEnvelope(row: OutboxRow): EventEnvelope {
  return {
    id: row.event_id as EventId,
    type: row.type,
    version: row.version,
    source: row.source,
    occurredAt: row.occurred_at.toISOString(),
    correlationId: row.correlation_id as CorrelationId,
    causationId: row.causation_id as EventId | '',
    key: row.aggregate,
    payload: row.payload,
  }
}

/** Why the row cannot be published (its contract, the envelope's rules such as the size cap), or undefined. */
function refusal(bus: Bus, envelope: EventEnvelope, seq: string): string | undefined {
  try {
    bus.contracts.validate(envelope.type, envelope.version, envelope.payload, `outbox row ${seq}`)
    encodeEvent(envelope)
    return undefined
  } catch (error) {
    return errorMessage(error)
  }
}

class Crash extends Error {}

export const RATE_WINDOW_S = 10

/** Rows per second over the last RATE_WINDOW_S seconds, in one-second buckets (reading it changes nothing, so the dashboard and /metrics may both ask). */
class Rate {
  private readonly buckets = new Map<number, number>()

  add(n: number, now = Date.now()): void {
    const second = Math.floor(now / 1000)
    this.buckets.set(second, (this.buckets.get(second) ?? 0) + n)
    for (const s of this.buckets.keys()) if (s <= second - RATE_WINDOW_S) this.buckets.delete(s)
  }

  perSecond(now = Date.now()): number {
    const since = Math.floor(now / 1000) - RATE_WINDOW_S
    let sum = 0
    for (const [s, n] of this.buckets) if (s > since) sum += n
    return sum / RATE_WINDOW_S
  }
}

/**
 * The relay from the outbox table into the streams. A row is deleted only in the transaction
 * that claimed it, after Redis acknowledged its event; a crash before that commit leaves the row,
 * and publishing it again appends nothing (publish is idempotent by the row's event id).
 */
export function createRelay(options: RelayOptions): Relay {
  const { bus } = options
  const warn = (m: string) => (options.onWarn ?? bus.warn)(redact(m))
  const pool = new pg.Pool({ connectionString: options.url, max: 1, connectionTimeoutMillis: 5_000 })
  pool.on('error', () => {}) // an idle connection lost: the next claim reconnects
  let migrated = options.migrate === false
  let published = 0
  const rate = new Rate()
  let stopped = false
  let loop: Promise<void> | undefined
  let listener: pg.Client | undefined
  let wake: (() => void) | undefined
  let woken = false
  const nudge = () => {
    woken = true
    wake?.()
  }

  const crashAt = async (point: RelayPoint) => {
    try {
      await options.crashAt?.(point)
    } catch (error) {
      throw new Crash(errorMessage(error))
    }
  }

  const relayOnce = async (): Promise<number> => {
    const client = await pool.connect()
    let broken: Error | undefined
    // A checked-out client that loses its connection (Postgres restarted) emits 'error' besides
    // failing its query: unheard, that event would end the process. The query's failure says it.
    const lostConnection = (error: Error) => void (broken ??= error)
    client.on('error', lostConnection)
    try {
      if (!migrated) {
        await migrateOutbox(client)
        migrated = true
      }
      await client.query('BEGIN')
      const rows = (await client.query<OutboxRow>(CLAIM, [options.batchSize ?? 500])).rows
      if (rows.length === 0) {
        await client.query('COMMIT')
        return 0
      }
      await crashAt('claimed')
      const dead: { seq: string; reason: string }[] = []
      const events: NewEvent[] = []
      for (const row of rows) {
        const envelope = toEnvelope(row)
        const reason = refusal(bus, envelope, row.seq)
        if (reason === undefined) events.push(envelope)
        else dead.push({ seq: row.seq, reason })
      }
      if (events.length > 0) await publishEvents(bus, events)
      await crashAt('published')
      if (dead.length > 0) {
        await client.query(
          `INSERT INTO ${OUTBOX_DEAD_TABLE} SELECT o.*, d.reason FROM ${OUTBOX_TABLE} o JOIN unnest($1::bigint[], $2::text[]) AS d(seq, reason) ON o.seq = d.seq`,
          [dead.map((d) => d.seq), dead.map((d) => d.reason)],
        )
        for (const d of dead) warn(`outbox row ${d.seq} dead-lettered: ${d.reason}`)
      }
      await client.query(`DELETE FROM ${OUTBOX_TABLE} WHERE seq = ANY($1::bigint[])`, [rows.map((r) => r.seq)])
      await crashAt('deleted')
      await client.query('COMMIT')
      published += events.length
      rate.add(events.length)
      return rows.length
    } catch (error) {
      // A crash drops the connection as a dead process's would: Postgres rolls the claim back.
      broken = error instanceof Error ? error : new Error(String(error))
      throw error
    } finally {
      client.off('error', lostConnection)
      if (broken === undefined) client.release()
      else {
        if (!(broken instanceof Crash)) await client.query('ROLLBACK').catch(() => {})
        client.release(true)
      }
    }
  }

  const listen = async (): Promise<void> => {
    if (listener !== undefined || stopped) return
    const client = new pg.Client({ connectionString: options.url, connectionTimeoutMillis: 5_000 })
    listener = client
    const lost = () => {
      if (listener === client) listener = undefined
      client.end().catch(() => {})
    }
    client.on('error', lost)
    client.on('end', lost)
    client.on('notification', nudge)
    try {
      await client.connect()
      await client.query(`LISTEN ${OUTBOX_CHANNEL}`)
    } catch {
      lost() // the poll covers until the next try
    }
  }

  const run = async (): Promise<void> => {
    let failures = 0
    while (!stopped) {
      try {
        await listen()
        woken = false
        const taken = await relayOnce()
        failures = 0
        if (taken > 0) continue
        if (woken) continue // a NOTIFY came during the claim
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, options.pollMs ?? 5_000)
          wake = () => {
            clearTimeout(timer)
            resolve()
          }
        })
        wake = undefined
      } catch (error) {
        if (stopped) return
        failures++
        if (failures === 1 || failures % 20 === 0) warn(`outbox relay: ${errorMessage(error)} (retrying)`)
        await sleep(Math.min(2_000, 50 * 2 ** Math.min(failures, 6)))
      }
    }
  }

  return {
    start() {
      loop ??= run()
    },
    relayOnce,
    async drain() {
      for (;;) {
        const taken = await relayOnce()
        if (taken > 0) continue
        const left = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${OUTBOX_TABLE}`)
        if ((left.rows[0]?.n ?? 0) === 0) return
        await sleep(20) // another relay holds the older rows of an aggregate
      }
    },
    async figures() {
      const result = await pool.query<{ backlog: number; lag: number | null; dead: number }>(
        `SELECT (SELECT count(*)::int FROM ${OUTBOX_TABLE}) AS backlog,
                (SELECT EXTRACT(EPOCH FROM clock_timestamp() - min(created_at))::float8 FROM ${OUTBOX_TABLE}) AS lag,
                (SELECT count(*)::int FROM ${OUTBOX_DEAD_TABLE}) AS dead`,
      )
      const row = result.rows[0]
      return { backlog: row?.backlog ?? 0, lagSeconds: Math.max(0, row?.lag ?? 0), published, deadLettered: row?.dead ?? 0, perSecond: rate.perSecond() }
    },
    async stop() {
      stopped = true
      wake?.()
      await loop
      const l = listener
      listener = undefined
      await l?.end().catch(() => {})
      await pool.end().catch(() => {})
    },
  }
}
