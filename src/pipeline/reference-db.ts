import pg from 'pg'
import type { Bus } from '../bus/bus.js'
import { decodeEvent } from '../events/envelope.js'
import type { Queryable } from '../outbox/table.js'
import { writeOutbox, type WriteOutboxOptions } from '../outbox/write.js'
import type { FundReference, Identifiers } from './types.js'
import { redact } from '../redis/redact.js'
import { loadReferenceData, type ReferenceData } from './reference.js'

/** The event a reference change is relayed as (contracts/reference.changed). */
export const REFERENCE_CHANGED = 'reference.changed'

type FundRow = FundReference & { readonly lei: string; readonly currency: string }

/** The Postgres `reference` schema: the CSV tables' columns, one row per ISIN. */
const FUND_COLUMNS = ['fundName', 'lei', 'currency', 'domicile', 'assetClass', 'manager'] as const
const IDENTIFIER_COLUMNS = ['cusip', 'sedol', 'figi', 'ticker'] as const
const TABLE_COLUMNS = { funds: FUND_COLUMNS, identifiers: IDENTIFIER_COLUMNS } as const
export type ReferenceTable = keyof typeof TABLE_COLUMNS

const ident = (column: string) => `"${column}"`

export const REFERENCE_SCHEMA_SQL = `
CREATE SCHEMA IF NOT EXISTS reference;
CREATE TABLE IF NOT EXISTS reference.funds (isin text PRIMARY KEY, ${FUND_COLUMNS.map((c) => `${ident(c)} text NOT NULL DEFAULT ''`).join(', ')});
CREATE TABLE IF NOT EXISTS reference.identifiers (isin text PRIMARY KEY, ${IDENTIFIER_COLUMNS.map((c) => `${ident(c)} text NOT NULL DEFAULT ''`).join(', ')});
`

/** A row written to the reference schema: what `reference.changed` carries. */
export interface ReferenceChange {
  readonly table: ReferenceTable
  readonly isin: string
  /** Columns to set (the rest keep their value, or '' for a new row). */
  readonly row: Readonly<Record<string, string>>
}

/** Reference data whose maps can change: enrich and resolve read it; the follower writes it. */
export interface LiveReference extends ReferenceData {
  readonly funds: Map<string, FundRow>
  readonly identifiers: Map<string, Identifiers>
}

/** Replaces the reference schema's rows with `data` (`pipeline generate --reference-db`), in one transaction. */
export async function seedReference(db: pg.ClientBase, data: ReferenceData): Promise<{ funds: number; identifiers: number }> {
  await db.query(REFERENCE_SCHEMA_SQL)
  await db.query('BEGIN')
  try {
    await db.query('TRUNCATE reference.funds, reference.identifiers')
    const funds = [...data.funds]
    const ids = [...data.identifiers]
    await db.query(
      `INSERT INTO reference.funds (isin, ${FUND_COLUMNS.map(ident).join(', ')}) SELECT * FROM unnest(${['$1', ...FUND_COLUMNS.map((_, i) => `$${i + 2}`)].map((p) => `${p}::text[]`).join(', ')})`,
      [funds.map(([isin]) => isin), ...FUND_COLUMNS.map((c) => funds.map(([, row]) => row[c]))],
    )
    await db.query(
      `INSERT INTO reference.identifiers (isin, ${IDENTIFIER_COLUMNS.map(ident).join(', ')}) SELECT * FROM unnest(${['$1', ...IDENTIFIER_COLUMNS.map((_, i) => `$${i + 2}`)].map((p) => `${p}::text[]`).join(', ')})`,
      [ids.map(([isin]) => isin), ...IDENTIFIER_COLUMNS.map((c) => ids.map(([, row]) => row[c]))],
    )
    await db.query('COMMIT')
  } catch (error) {
    await db.query('ROLLBACK').catch(() => {})
    throw error
  }
  return { funds: data.funds.size, identifiers: data.identifiers.size }
}

/** `pipeline generate --reference-db`: the CSV tables of `dir` into the reference schema. The URL comes back with any password masked. */
export async function seedReferenceFromFolder(url: string, dir: string): Promise<{ url: string; funds: number; identifiers: number }> {
  const data = loadReferenceData(dir)
  const db = new pg.Client({ connectionString: url })
  db.on('error', () => {})
  await db.connect()
  try {
    return { url: redact(url), ...(await seedReference(db, data)) }
  } finally {
    await db.end().catch(() => {})
  }
}

/** Reads the reference schema whole. */
export async function loadReferenceFromDb(db: Queryable): Promise<LiveReference> {
  const funds = new Map<string, FundRow>()
  const identifiers = new Map<string, Identifiers>()
  for (const r of (await db.query('SELECT * FROM reference.funds')).rows as Record<string, string>[]) funds.set(String(r['isin']).toUpperCase(), pick(r, FUND_COLUMNS) as unknown as FundRow)
  for (const r of (await db.query('SELECT * FROM reference.identifiers')).rows as Record<string, string>[]) {
    identifiers.set(String(r['isin']).toUpperCase(), pick(r, IDENTIFIER_COLUMNS) as unknown as Identifiers)
  }
  return { funds, identifiers }
}

function pick(row: Readonly<Record<string, string | undefined>>, columns: readonly string[], base: Readonly<Record<string, string>> = {}): Record<string, string> {
  return Object.fromEntries(columns.map((c) => [c, row[c] ?? base[c] ?? '']))
}

/**
 * Writes a reference change and its outbox row inside the caller's open transaction: the row
 * and the event commit together, so enrich and resolve elsewhere learn of exactly the changes
 * that happened.
 */
export async function writeReferenceChange(client: Queryable, change: ReferenceChange, options: WriteOutboxOptions = {}): Promise<void> {
  const columns = TABLE_COLUMNS[change.table].filter((c) => c in change.row)
  const isin = change.isin.toUpperCase()
  const values = columns.map((c) => change.row[c] as string)
  await client.query(
    `INSERT INTO reference.${change.table} (isin${columns.map((c) => `, ${ident(c)}`).join('')}) VALUES ($1${columns.map((_, i) => `, $${i + 2}`).join('')})
     ON CONFLICT (isin) DO ${columns.length === 0 ? 'NOTHING' : `UPDATE SET ${columns.map((c) => `${ident(c)} = EXCLUDED.${ident(c)}`).join(', ')}`}`,
    [isin, ...values],
  )
  await writeOutbox(client, { type: REFERENCE_CHANGED, key: isin, payload: { table: change.table, isin, row: Object.fromEntries(columns.map((c, i) => [c, values[i]])) } }, options)
}

/** Applies a relayed change to live reference data (idempotent: applying it twice sets the same row). */
export function applyReferenceChange(data: LiveReference, change: ReferenceChange): void {
  const isin = change.isin.toUpperCase()
  if (change.table === 'funds') data.funds.set(isin, pick(change.row, FUND_COLUMNS, data.funds.get(isin) as Record<string, string> | undefined) as unknown as FundRow)
  else data.identifiers.set(isin, pick(change.row, IDENTIFIER_COLUMNS, data.identifiers.get(isin) as unknown as Record<string, string> | undefined) as unknown as Identifiers)
}

export interface ReferenceFollower {
  readonly data: LiveReference
  stop(): Promise<void>
}

/**
 * The reference data of a host, from Postgres, kept current: every process reads the whole
 * `reference.changed` stream itself (XREAD, no consumer group: each enrich and resolve needs
 * every change). The changes are published by key (the ISIN), so with partitions the stream of
 * every partition is followed, each on a connection of its own (as `tail` does): a class's
 * changes stay in one partition, in order. Each stream's end is noted before the tables are
 * read, so a change committed meanwhile is read again rather than missed.
 */
export async function followReference(bus: Bus, url: string, warn: (message: string) => void): Promise<ReferenceFollower> {
  const streams = bus.partitions.map((keys) => keys.stream(REFERENCE_CHANGED))
  const starts = await Promise.all(streams.map(async (stream) => ((await bus.redis.xrevrange(stream, '+', '-', 'COUNT', 1)) as [string, string[]][])[0]?.[0] ?? '0-0'))
  const db = new pg.Client({ connectionString: url })
  db.on('error', () => {})
  await db.connect()
  let data: LiveReference
  try {
    data = await loadReferenceFromDb(db)
  } finally {
    await db.end().catch(() => {})
  }
  let stopped = false
  const readers = streams.map(() => bus.connect())
  const follow = async (reader: ReturnType<Bus['connect']>, stream: string, from: string) => {
    while (!stopped) {
      try {
        const reply = (await reader.xread('COUNT', 500, 'BLOCK', 500, 'STREAMS', stream, from)) as [string, [string, string[]][]][] | null
        for (const [entryId, fields] of reply?.[0]?.[1] ?? []) {
          from = entryId
          applyReferenceChange(data, decodeEvent(fields, `entry ${entryId} of ${stream}`).payload as ReferenceChange)
        }
      } catch (error) {
        if (stopped) return
        warn(`reference changes: ${error instanceof Error ? error.message : String(error)}`)
        await new Promise((resolve) => setTimeout(resolve, 1_000))
      }
    }
  }
  const loops = Promise.all(readers.map((reader, p) => follow(reader, streams[p] as string, starts[p] as string)))
  return {
    data,
    async stop() {
      stopped = true
      for (const reader of readers) reader.disconnect()
      await loops
    },
  }
}
