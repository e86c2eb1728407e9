import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import pg from 'pg'
import { EventspineError, errorMessage } from '../../errors.js'
import type { OutboxTarget } from '../../outbox/target.js'
import { startThrowawayPostgres } from '../../postgres/server.js'
import { isPidAlive } from '../../redis/process.js'
import { redact } from '../../redis/redact.js'

/** The outbox database a host relays from. */
export interface OutboxDatabase {
  readonly url: string
  /** The URL with any password masked. */
  readonly displayUrl: string
  /** `managed-started`: this process started a throwaway cluster (stopped by release()). */
  readonly source: 'url' | 'managed-started' | 'managed-existing'
  release(): Promise<void>
}

/** What `.pipeline/postgres.json` records of the throwaway cluster `up --outbox managed` started. */
interface PostgresRecord {
  readonly pid: number
  readonly url: string
  readonly dir: string
}

const recordPath = (projectDir: string) => join(resolve(projectDir), '.pipeline', 'postgres.json')

function liveRecord(projectDir: string): PostgresRecord | undefined {
  try {
    const record = JSON.parse(readFileSync(recordPath(projectDir), 'utf8')) as PostgresRecord
    return typeof record.pid === 'number' && isPidAlive(record.pid) ? record : undefined
  } catch {
    return undefined
  }
}

/**
 * The outbox database: a URL (checked now, so a wrong one fails at start, not as relay
 * warnings), or `managed`. `up` (`use: 'run'`) starts a throwaway cluster in a temporary folder
 * and records it in `.pipeline/postgres.json`; a worker (`use: 'join'`) uses the recorded one.
 */
export async function openOutboxDatabase(target: OutboxTarget, options: { projectDir: string; use: 'run' | 'join' }): Promise<OutboxDatabase> {
  if (target.kind === 'url') {
    await checkReachable(target.url)
    return { url: target.url, displayUrl: redact(target.url), source: 'url', release: async () => {} }
  }
  const existing = liveRecord(options.projectDir)
  if (existing !== undefined) return { url: existing.url, displayUrl: existing.url, source: 'managed-existing', release: async () => {} }
  if (options.use === 'join') {
    throw new EventspineError('E_POSTGRES_UNREACHABLE', 'No managed outbox database runs for this project.', {
      hint: 'Start `pipeline up --outbox managed` first, or give the database: --outbox postgres://...',
    })
  }
  const server = await startThrowawayPostgres()
  mkdirSync(join(resolve(options.projectDir), '.pipeline'), { recursive: true })
  writeFileSync(recordPath(options.projectDir), `${JSON.stringify({ pid: server.pid(), url: server.url, dir: server.dir } satisfies PostgresRecord, null, 2)}\n`)
  const stopOnExit = () => void server.kill()
  process.once('exit', stopOnExit)
  return {
    url: server.url,
    displayUrl: server.url,
    source: 'managed-started',
    async release() {
      process.off('exit', stopOnExit)
      rmSync(recordPath(options.projectDir), { force: true })
      await server.stop()
    },
  }
}

async function checkReachable(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.query('SELECT 1')
  } catch (error) {
    throw new EventspineError('E_POSTGRES_UNREACHABLE', `The outbox database at ${redact(url)} did not answer: ${redact(errorMessage(error))}.`, {
      hint: 'Check host, port, user and database in --outbox / PIPELINE_OUTBOX / the config\'s outbox (passwords are never printed); `pipeline doctor --outbox ...` checks it.',
    })
  } finally {
    await client.end().catch(() => {})
  }
}
