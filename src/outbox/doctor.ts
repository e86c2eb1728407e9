import pg from 'pg'
import { errorMessage } from '../errors.js'
import { findPostgresBin, POSTGRES_INSTALL_HINT, postgresVersion } from '../postgres/binary.js'
import { redact } from '../redis/redact.js'
import { OUTBOX_DEAD_TABLE, OUTBOX_TABLE } from './table.js'
import type { OutboxTarget } from './target.js'

/** What `pipeline doctor` says of PostgreSQL and the outbox database. */
export interface OutboxDoctorReport {
  readonly postgres: { readonly binDir: string | null; readonly version: string | null }
  /** Null when no outbox was named (--outbox, PIPELINE_OUTBOX). */
  readonly outbox: {
    readonly url: string
    readonly reachable: boolean | null
    readonly serverVersion: string | null
    /** Whether the migration ran there (the relay runs it at start). */
    readonly migrated: boolean | null
    readonly backlog: number | null
    readonly deadLettered: number | null
  } | null
  readonly problems: readonly { code: 'E_POSTGRES_BINARY_MISSING' | 'E_POSTGRES_UNREACHABLE'; blocking: boolean; message: string; fix: string }[]
}

/**
 * Checks the PostgreSQL binaries (for `--outbox managed` and the tests) and, when one is named,
 * the outbox database: it answers, its version, whether the outbox table exists, its backlog.
 * Starts nothing. Output is redacted.
 */
export async function outboxDoctor(options: { target?: OutboxTarget | undefined; env?: NodeJS.ProcessEnv } = {}): Promise<OutboxDoctorReport> {
  const binDir = findPostgresBin(options.env) ?? null
  const postgres = { binDir, version: binDir === null ? null : postgresVersion(binDir) }
  const problems: OutboxDoctorReport['problems'][number][] = []
  const target = options.target
  if (target?.kind === 'managed' && binDir === null) {
    problems.push({ code: 'E_POSTGRES_BINARY_MISSING', blocking: true, message: '--outbox managed needs PostgreSQL (initdb, postgres), which is not installed.', fix: POSTGRES_INSTALL_HINT })
  }
  if (target?.kind !== 'url') return { postgres, outbox: null, problems }
  const outbox = { url: redact(target.url), reachable: null as boolean | null, serverVersion: null as string | null, migrated: null as boolean | null, backlog: null as number | null, deadLettered: null as number | null }
  const client = new pg.Client({ connectionString: target.url, connectionTimeoutMillis: 3_000 })
  client.on('error', () => {})
  try {
    await client.connect()
    outbox.reachable = true
    outbox.serverVersion = String((await client.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v ?? '') || null
    outbox.migrated = (await client.query<{ ok: boolean }>(`SELECT to_regclass('${OUTBOX_TABLE}') IS NOT NULL AS ok`)).rows[0]?.ok ?? false
    if (outbox.migrated) {
      const row = (await client.query<{ b: number; d: number }>(`SELECT (SELECT count(*)::int FROM ${OUTBOX_TABLE}) AS b, (SELECT count(*)::int FROM ${OUTBOX_DEAD_TABLE}) AS d`)).rows[0]
      outbox.backlog = row?.b ?? null
      outbox.deadLettered = row?.d ?? null
    }
  } catch (error) {
    outbox.reachable = false
    problems.push({
      code: 'E_POSTGRES_UNREACHABLE',
      blocking: true,
      message: `The outbox database at ${redact(target.url)} did not answer: ${redact(errorMessage(error))}.`,
      fix: 'Check host, port, user and database in --outbox / PIPELINE_OUTBOX, and that the server accepts TCP connections from here (pg_hba.conf).',
    })
  } finally {
    await client.end().catch(() => {})
  }
  return { postgres, outbox, problems }
}
