import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { EventspineError } from '../errors.js'
import { findOnPath, redisServerEnv, requireRedisServer } from './binary.js'
import { RedisErrorCode } from './errors.js'
import { freePort, tailOf, waitUntilServing } from './process.js'

/**
 * How every redis-server we start is configured: AOF on, no RDB snapshots, no eviction. A
 * cluster node also keeps its identity and view of the cluster in `nodes.conf` under `dir`.
 */
export function redisServerArgs(options: {
  port: number
  dir: string
  appendfsync: 'always' | 'everysec'
  logFile?: string
  /** A cluster node: how long a master may be silent before its replica takes over. */
  cluster?: { nodeTimeoutMs: number }
}): string[] {
  const cluster = options.cluster
  return [
    '--port', String(options.port),
    '--bind', '127.0.0.1',
    '--dir', options.dir,
    '--appendonly', 'yes',
    '--appendfsync', options.appendfsync,
    '--save', '',
    '--maxmemory-policy', 'noeviction',
    '--daemonize', 'no',
    ...(options.logFile === undefined ? [] : ['--logfile', options.logFile]),
    ...(cluster === undefined ? [] : ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', String(cluster.nodeTimeoutMs)]),
  ]
}

export interface OwnedRedisOptions {
  /** Data directory (the AOF lives here and survives restarts). */
  readonly dir: string
  readonly appendfsync: 'always' | 'everysec'
  /** Default: a free loopback port, kept across restarts. */
  readonly port?: number
  readonly logFile?: string
}

/**
 * A redis-server this process started and controls: it can pause, kill and restart it on the
 * same port and data dir (fault injection). Unlike the managed server it dies with us.
 */
export interface OwnedRedis {
  readonly url: string
  readonly port: number
  readonly pid: number
  /** SIGSTOP: Redis stops answering but keeps every connection open. */
  pause(): void
  resume(): void
  /** SIGTERM (Redis flushes the AOF and exits) or SIGKILL, then start again from the AOF. */
  restart(how: 'graceful' | 'kill'): Promise<void>
  /** SIGTERM, SIGKILL if it has not exited after 10 s. */
  stop(): Promise<void>
  /** SIGKILL at once (from a signal handler). */
  kill(): void
}

export async function startOwnedRedis(options: OwnedRedisOptions): Promise<OwnedRedis> {
  const binary = await requireRedisServer()
  const port = options.port ?? (await freePort())
  let child = spawnServer(binary.path, port, options)
  // Dies with us, whatever way we end: a fault-injection run must not leave servers behind.
  const killOnExit = () => kill(child)
  process.once('exit', killOnExit)
  try {
    await waitForServer(child, port, options)
  } catch (error) {
    process.off('exit', killOnExit)
    throw error
  }
  const halt = async (signal: NodeJS.Signals) => {
    const c = child
    if (exited(c)) return
    const gone = new Promise<void>((resolve) => c.once('exit', () => resolve()))
    c.kill('SIGCONT') // a paused server cannot handle SIGTERM
    c.kill(signal)
    // Redis may refuse to shut down (an AOF it cannot write): do not wait for ever.
    if (await Promise.race([gone.then(() => false), sleep(10_000).then(() => true)])) c.kill('SIGKILL')
    await gone
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get pid() {
      return child.pid ?? 0
    },
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
    async restart(how) {
      await halt(how === 'graceful' ? 'SIGTERM' : 'SIGKILL')
      // The new process is ours (and killOnExit's) from the moment it exists, not once it answers.
      child = spawnServer(binary.path, port, options)
      await waitForServer(child, port, options)
    },
    async stop() {
      process.off('exit', killOnExit)
      await halt('SIGTERM')
    },
    kill: () => kill(child),
  }
}

/** A redis-server for one test run: see {@link startThrowawayRedis}. */
export interface ThrowawayRedis {
  readonly url: string
  /** Stops the server and deletes its data folder. */
  stop(): Promise<void>
}

/**
 * Starts a redis-server of its own (from PATH) on a free loopback port, its data in a new
 * temporary folder: for a test that must not depend on a Redis being there, nor share one.
 * It dies with this process even without `stop()`.
 */
export async function startThrowawayRedis(): Promise<ThrowawayRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'eventspine-redis-'))
  let server: OwnedRedis
  try {
    server = await startOwnedRedis({ dir, appendfsync: 'everysec', logFile: join(dir, 'redis.log') })
  } catch (error) {
    await rm(dir, { recursive: true, force: true })
    throw error
  }
  return {
    url: server.url,
    async stop() {
      await server.stop()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

const exited = (c: ChildProcess): boolean => c.exitCode !== null || c.signalCode !== null

function kill(c: ChildProcess): void {
  c.kill('SIGCONT')
  c.kill('SIGKILL')
}

function spawnServer(path: string, port: number, options: OwnedRedisOptions): ChildProcess {
  const args = redisServerArgs({ port, dir: options.dir, appendfsync: options.appendfsync, ...(options.logFile === undefined ? {} : { logFile: options.logFile }) })
  return spawnRedisServer(path, args, { cwd: options.dir, lifetime: 'ours' })
}

/**
 * Spawns redis-server with `args`. `ours`: it dies with this process, even on a kill -9 of it
 * (Linux signals a child when its parent dies; setpriv execs redis-server, so the pid stays the
 * server's). `detached`: its own process group, unref'd, outliving us (the managed servers).
 */
export function spawnRedisServer(path: string, args: readonly string[], options: { cwd: string; lifetime: 'ours' | 'detached' }): ChildProcess {
  const setpriv = options.lifetime === 'ours' && process.platform === 'linux' ? findOnPath('setpriv') : undefined
  const child =
    options.lifetime === 'detached'
      ? spawn(path, args, { cwd: options.cwd, stdio: 'ignore', detached: true, env: redisServerEnv() })
      : setpriv === undefined
        ? spawn(path, args, { cwd: options.cwd, stdio: 'ignore', env: redisServerEnv() })
        : spawn(setpriv, ['--pdeathsig', 'KILL', '--', path, ...args], { cwd: options.cwd, stdio: 'ignore', env: redisServerEnv() })
  child.on('error', () => {})
  if (options.lifetime === 'detached') child.unref()
  return child
}

/** Waits until this very process answers on the port (loading a large AOF takes a while). */
async function waitForServer(child: ChildProcess, port: number, options: OwnedRedisOptions): Promise<void> {
  if (child.pid !== undefined && !exited(child) && (await waitUntilServing(port, child.pid, 60_000))) return
  kill(child)
  const log = options.logFile === undefined ? '' : tailOf(options.logFile)
  throw new EventspineError(RedisErrorCode.StartFailed, `redis-server did not start on port ${port}.`, {
    hint: options.logFile === undefined ? 'Run `pipeline doctor` to check the installation.' : `See its log at ${options.logFile}${log ? `; last lines:\n${log}` : ''}`,
  })
}
