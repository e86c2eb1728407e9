/**
 * The outbox table as a contract of its own: its columns, what each holds, and the migration
 * that creates it. The same list writes the SQL and the columns' COMMENTs, so `\d+` in psql,
 * the README and the code say one thing.
 */
export const OUTBOX_TABLE = 'eventspine_outbox'
export const OUTBOX_DEAD_TABLE = 'eventspine_outbox_dead'
/** The NOTIFY channel: an insert into the outbox wakes the relays listening on it. */
export const OUTBOX_CHANNEL = 'eventspine_outbox'

export interface OutboxColumn {
  readonly name: string
  readonly sql: string
  readonly meaning: string
}

export const OUTBOX_COLUMNS: readonly OutboxColumn[] = [
  { name: 'seq', sql: 'bigserial PRIMARY KEY', meaning: 'Order of the rows: per aggregate, the order their events reach the stream.' },
  { name: 'event_id', sql: 'uuid NOT NULL UNIQUE', meaning: 'The event id in the stream; publish is idempotent by it, so a relay crash republishes nothing new.' },
  { name: 'aggregate', sql: 'text NOT NULL', meaning: 'The event key: order holds among the rows of one aggregate.' },
  { name: 'type', sql: 'text NOT NULL', meaning: 'The event type; its contract checks payload (writeOutbox before commit, the relay again).' },
  { name: 'version', sql: 'integer NOT NULL', meaning: 'The contract version of payload.' },
  { name: 'payload', sql: 'jsonb NOT NULL', meaning: 'The event payload.' },
  { name: 'correlation_id', sql: 'uuid NOT NULL', meaning: 'The journey the event belongs to.' },
  { name: 'causation_id', sql: "text NOT NULL DEFAULT ''", meaning: "The event that caused this one; '' for none." },
  { name: 'source', sql: "text NOT NULL DEFAULT 'outbox'", meaning: 'Who wrote the event (the envelope source).' },
  { name: 'occurred_at', sql: 'timestamptz NOT NULL DEFAULT now()', meaning: 'When it happened: the writing transaction\'s time by default.' },
  { name: 'created_at', sql: 'timestamptz NOT NULL DEFAULT clock_timestamp()', meaning: 'When the row was written: the relay\'s lag is measured from it.' },
]

/** The dead-letter table: the outbox row as it was, why it was refused, and when. */
const DEAD_EXTRA = [
  { name: 'reason', sql: 'text NOT NULL', meaning: 'Why the relay refused the row (the contract violation).' },
  { name: 'dead_at', sql: 'timestamptz NOT NULL DEFAULT now()', meaning: 'When the relay moved it here.' },
] as const

const quote = (text: string) => `'${text.replace(/'/g, "''")}'`
const comments = (table: string, columns: readonly OutboxColumn[]) => columns.map((c) => `COMMENT ON COLUMN ${table}.${c.name} IS ${quote(c.meaning)};`).join('\n  ')

/**
 * Creates the tables, the index per aggregate, and the trigger that NOTIFYs relays once per
 * inserting statement. Idempotent: run it at every start. Once the table exists it touches
 * nothing (DDL on a table in use would queue behind relays' row locks and deadlock them); the
 * advisory lock makes two relays starting at once create it once.
 */
export const OUTBOX_MIGRATION = `
DO $migrate$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('${OUTBOX_TABLE}:migrate'));
  IF to_regclass('${OUTBOX_TABLE}') IS NOT NULL THEN RETURN; END IF;
  CREATE TABLE ${OUTBOX_TABLE} (
    ${OUTBOX_COLUMNS.map((c) => `${c.name} ${c.sql}`).join(',\n    ')}
  );
  CREATE INDEX ${OUTBOX_TABLE}_aggregate ON ${OUTBOX_TABLE} (aggregate, seq);
  CREATE TABLE ${OUTBOX_DEAD_TABLE} (
    ${[...OUTBOX_COLUMNS.map((c) => (c.name === 'seq' ? 'seq bigint PRIMARY KEY' : c.name === 'event_id' ? 'event_id uuid NOT NULL' : `${c.name} ${c.sql}`)), ...DEAD_EXTRA.map((c) => `${c.name} ${c.sql}`)].join(',\n    ')}
  );
  CREATE OR REPLACE FUNCTION ${OUTBOX_TABLE}_notify() RETURNS trigger LANGUAGE plpgsql AS $notify$
  BEGIN
    PERFORM pg_notify('${OUTBOX_CHANNEL}', '');
    RETURN NULL;
  END $notify$;
  CREATE TRIGGER ${OUTBOX_TABLE}_notify AFTER INSERT ON ${OUTBOX_TABLE} FOR EACH STATEMENT EXECUTE FUNCTION ${OUTBOX_TABLE}_notify();
  COMMENT ON TABLE ${OUTBOX_TABLE} IS 'eventspine transactional outbox: rows written with the state they describe, relayed into the Redis streams and deleted once Redis has them.';
  ${comments(OUTBOX_TABLE, OUTBOX_COLUMNS)}
  ${comments(OUTBOX_DEAD_TABLE, DEAD_EXTRA)}
END $migrate$;
`

/** Anything with pg's `query`: a Client, a PoolClient or a Pool. */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[]; rowCount: number | null }>
}

/** Runs the migration (idempotent). */
export async function migrateOutbox(db: Queryable): Promise<void> {
  await db.query(OUTBOX_MIGRATION)
}
