import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { EventspineError } from '../errors.js'

export const POSTGRES_INSTALL_HINT =
  'Install it with `sudo apt-get install postgresql` (Debian/Ubuntu) or `brew install postgresql` (macOS), ' +
  'or give a database you already run: --outbox postgres://user@host:5432/db.'

/**
 * The folder with `initdb`, `pg_ctl` and `postgres`. Debian keeps them out of PATH, in
 * /usr/lib/postgresql/<major>/bin: PIPELINE_POSTGRES_BIN wins, then PATH, then the newest major there.
 */
export function findPostgresBin(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const given = env['PIPELINE_POSTGRES_BIN']
  if (given !== undefined && given !== '') return existsSync(join(given, 'initdb')) ? given : undefined
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (dir !== '' && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres'))) return dir
  }
  const debian = '/usr/lib/postgresql'
  if (!existsSync(debian)) return undefined
  const majors = readdirSync(debian)
    .filter((name) => /^\d+(\.\d+)?$/.test(name) && existsSync(join(debian, name, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a))
  return majors[0] === undefined ? undefined : join(debian, majors[0], 'bin')
}

export function requirePostgresBin(env: NodeJS.ProcessEnv = process.env): string {
  const dir = findPostgresBin(env)
  if (dir === undefined) {
    throw new EventspineError('E_POSTGRES_BINARY_MISSING', 'PostgreSQL (initdb, postgres) was not found on PATH nor in /usr/lib/postgresql/*/bin.', {
      hint: POSTGRES_INSTALL_HINT,
    })
  }
  return dir
}

/** `postgres --version`'s number, e.g. `15.10`; null when it does not answer. */
export function postgresVersion(binDir: string): string | null {
  try {
    const out = execFileSync(join(binDir, 'postgres'), ['--version'], { encoding: 'utf8', timeout: 5_000 })
    return /(\d+(\.\d+)*)/.exec(out)?.[1] ?? null
  } catch {
    return null
  }
}
