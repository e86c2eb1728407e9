import { spawn, type ChildProcess } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { EventspineError } from '../errors.js'
import { requireRedisServer } from './binary.js'
import { RedisErrorCode } from './errors.js'
import { answersPing, freePort, tailOf } from './process.js'

/** How every redis-server we start is configured: AOF on, no RDB snapshots, no eviction. */
export function redisServerArgs(options: { port: number; dir: string; appendfsync: 'always' | 'everysec'; logFile?: string }): string[] {
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
  stop(): Promise<void>
}

export async function startOwnedRedis(options: OwnedRedisOptions): Promise<OwnedRedis> {
  const binary = await requireRedisServer()
  const port = options.port ?? (await freePort())
  let child = await launch(binary.path, port, options)
  // Dies with us, whatever way we end: a fault-injection run must not leave servers behind.
  const killOnExit = () => void child.kill('SIGKILL')
  process.once('exit', killOnExit)
  const exited = (c: ChildProcess) => c.exitCode !== null || c.signalCode !== null
  const halt = async (signal: NodeJS.Signals) => {
    const c = child
    if (exited(c)) return
    const gone = new Promise<void>((resolve) => c.once('exit', () => resolve()))
    if (signal !== 'SIGCONT') c.kill('SIGCONT') // a paused server cannot handle SIGTERM
    c.kill(signal)
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
      child = await launch(binary.path, port, options)
    },
    async stop() {
      process.off('exit', killOnExit)
      await halt('SIGTERM')
    },
  }
}

async function launch(path: string, port: number, options: OwnedRedisOptions): Promise<ChildProcess> {
  const child = spawn(path, redisServerArgs({ port, dir: options.dir, appendfsync: options.appendfsync, ...(options.logFile === undefined ? {} : { logFile: options.logFile }) }), {
    cwd: options.dir,
    stdio: 'ignore',
  })
  child.on('error', () => {})
  // Loading a large AOF takes a while: wait for PING rather than a fixed time.
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline && child.exitCode === null) {
    if (await answersPing(port, 500)) return child
    await sleep(50)
  }
  child.kill('SIGKILL')
  const log = options.logFile === undefined ? '' : tailOf(options.logFile)
  throw new EventspineError(RedisErrorCode.StartFailed, `redis-server (${path}) did not start on port ${port}.`, {
    hint: options.logFile === undefined ? 'Run `pipeline doctor` to check the installation.' : `See its log at ${options.logFile}${log ? `; last lines:\n${log}` : ''}`,
  })
}
