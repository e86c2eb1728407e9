import { execFileSync, spawn } from 'node:child_process'
import { chownSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { EventspineError } from '../errors.js'
import { freePort, isPidAlive } from '../redis/process.js'
import { requirePostgresBin } from './binary.js'

/** The unprivileged user a root process runs Postgres as (Postgres refuses to run as root). */
export const POSTGRES_RUN_USER = 'eventspine-pg'

export interface ThrowawayPostgresOptions {
  /** Data folder; default a new one under the system's temporary folder (removed by stop()). */
  readonly dir?: string
  readonly port?: number
  /**
   * Default true. Tests turn it off: a process kill (not a machine crash) loses nothing
   * without fsync, since the kernel still holds what Postgres wrote.
   */
  readonly fsync?: boolean
  readonly env?: NodeJS.ProcessEnv
}

export interface ThrowawayPostgres {
  /** `postgres://eventspine@127.0.0.1:<port>/postgres`: trust auth, loopback only, no password. */
  readonly url: string
  readonly port: number
  readonly dir: string
  /** The postmaster's pid (its backends share its process group). */
  pid(): number
  /** Fast shutdown; removes the data folder when we made it. */
  stop(): Promise<void>
  /** kill -9 of the postmaster and every backend, as a crash would. */
  kill(): Promise<void>
  /** Starts it again on the same port and data (crash recovery replays the WAL). */
  start(): Promise<void>
}

interface RunAs {
  readonly uid: number
  readonly gid: number
}

/** Root runs Postgres as POSTGRES_RUN_USER, created (a system user, no login) when missing. */
function runAs(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined
  const id = (flag: string) => Number(execFileSync('id', [flag, POSTGRES_RUN_USER], { encoding: 'utf8' }).trim())
  try {
    return { uid: id('-u'), gid: id('-g') }
  } catch {
    execFileSync('useradd', ['--system', '--no-create-home', '--user-group', '--shell', '/usr/sbin/nologin', POSTGRES_RUN_USER], { stdio: 'ignore' })
    return { uid: id('-u'), gid: id('-g') }
  }
}

/** argv that runs `binary` as `user` when set: setpriv execs (no fork), so the pid is the program's own. */
function command(binary: string, args: readonly string[], user: RunAs | undefined): [string, string[]] {
  if (user === undefined) return [binary, [...args]]
  return ['setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--', binary, ...args]]
}

/**
 * A throwaway PostgreSQL cluster: `initdb` in a temporary folder, then `postgres` on a free
 * loopback port (TCP only, no socket file). For tests and `pipeline up --outbox managed`.
 */
export async function startThrowawayPostgres(options: ThrowawayPostgresOptions = {}): Promise<ThrowawayPostgres> {
  const bin = requirePostgresBin(options.env)
  const user = runAs()
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'eventspine-pg-'))
  const data = join(dir, 'data')
  const log = join(dir, 'postgres.log')
  if (user !== undefined) chownSync(dir, user.uid, user.gid)
  const [initdb, initArgs] = command(join(bin, 'initdb'), ['-D', data, '-U', 'eventspine', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync'], user)
  try {
    execFileSync(initdb, initArgs, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
  } catch (error) {
    throw new EventspineError('E_POSTGRES_START_FAILED', `initdb failed in ${data}.`, { hint: String((error as { stderr?: unknown }).stderr ?? error), cause: error })
  }
  let port = options.port ?? (await freePort())
  let pid = 0
  const settings = ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', `fsync=${options.fsync === false ? 'off' : 'on'}`, '-c', 'max_connections=100']
  const start = async (): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      const fd = openSync(log, 'a')
      if (user !== undefined) chownSync(log, user.uid, user.gid)
      const [postgres, args] = command(join(bin, 'postgres'), ['-D', data, '-p', String(port), ...settings], user)
      // Its own process group: kill() reaches the backends, and Ctrl-C in a terminal does not.
      const child = spawn(postgres, args, { cwd: dir, stdio: ['ignore', fd, fd], detached: true })
      closeSync(fd)
      child.on('error', () => {})
      child.unref()
      pid = child.pid ?? 0
      if (await accepts(port, pid)) return
      if (isPidAlive(pid)) await signalGroup(pid, 'SIGKILL')
      const tail = readFileSync(log, 'utf8').split('\n').slice(-8).join('\n')
      // Old backends of a killed server may hold its shared memory a moment; a port can be taken.
      if (attempt < 5 && /already in use|shared memory|lock file/i.test(tail)) {
        if (options.port === undefined && /address already in use/i.test(tail)) port = await freePort()
        await sleep(200 * attempt)
        continue
      }
      throw new EventspineError('E_POSTGRES_START_FAILED', `postgres did not start on port ${port}.`, { hint: `See its log at ${log}; last lines:\n${tail}` })
    }
  }
  await start()
  return {
    get url() {
      return `postgres://eventspine@127.0.0.1:${port}/postgres`
    },
    get port() {
      return port
    },
    dir,
    pid: () => pid,
    async stop() {
      await signalGroup(pid, 'SIGINT') // fast shutdown: rolls back open transactions, then exits
      if (options.dir === undefined) rmSync(dir, { recursive: true, force: true })
    },
    async kill() {
      await signalGroup(pid, 'SIGKILL')
    },
    start,
  }
}

/** Signals the process group of `pid` and waits until the postmaster is gone (SIGKILL after 10 s). */
async function signalGroup(pid: number, signal: NodeJS.Signals): Promise<void> {
  if (pid === 0 || !isPidAlive(pid)) return
  const send = (s: NodeJS.Signals) => {
    try {
      process.kill(-pid, s)
    } catch {
      // already gone
    }
  }
  send(signal)
  const deadline = Date.now() + 10_000
  while (isPidAlive(pid)) {
    if (Date.now() > deadline) send('SIGKILL')
    await sleep(20)
  }
  // Backends notice the postmaster's death on their own; give the group a moment to empty.
  for (let i = 0; i < 100 && isPidAlive(-pid); i++) await sleep(20) // -pid: the process group
}

/** True once the server at `port` answers a query; false when `pid` dies first or 30 s pass. */
async function accepts(port: number, pid: number): Promise<boolean> {
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline && isPidAlive(pid)) {
    const client = new pg.Client({ host: '127.0.0.1', port, user: 'eventspine', database: 'postgres', connectionTimeoutMillis: 1_000 })
    client.on('error', () => {})
    try {
      await client.connect()
      await client.query('SELECT 1')
      return true
    } catch {
      await sleep(50)
    } finally {
      await client.end().catch(() => {})
    }
  }
  return false
}
