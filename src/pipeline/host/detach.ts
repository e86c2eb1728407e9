import { spawn } from 'node:child_process'
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { EventspineError } from '../../errors.js'
import { isPidAlive, readManagedRecord, stopManagedRedis } from '../../redis/managed.js'
import { readClusterRecord } from '../../redis/cluster.js'
import { managedClusterDir, stopManagedCluster } from '../../redis/managed-cluster.js'
import { findLiveUp, readUpRecord, upPaths, type UpRecord } from './record.js'

export interface DetachOptions {
  readonly projectDir: string
  /** The CLI entry (`bin/run.js`) and the `up` command's own arguments (with --detach). */
  readonly bin: string
  readonly argv: readonly string[]
  /** Passed to the background process in its environment, not on its command line (`ps` shows that). */
  readonly redisUrl?: string | undefined
  /** How long to wait for the background process to report itself. Default 30 s. */
  readonly timeoutMs?: number
}

/**
 * Starts `pipeline up` in the background (its own session, output to `.pipeline/up.log`) and
 * waits until it has written `.pipeline/up.json`. If it exits first, the log's tail is the error.
 */
export async function detachUp(options: DetachOptions): Promise<UpRecord> {
  const projectDir = resolve(options.projectDir)
  const running = findLiveUp(projectDir)
  if (running !== undefined) {
    throw new EventspineError('E_UP_RUNNING', `pipeline up is already running for this project (pid ${running.pid}).`, {
      hint: 'Follow it with `pipeline status`, or stop it with `pipeline down`.',
    })
  }
  const paths = upPaths(projectDir)
  mkdirSync(paths.dir, { recursive: true })
  // 0600: the background up prints the console URL with its token into this log.
  const log = openSync(paths.log, 'a', 0o600)
  const env = options.redisUrl === undefined ? process.env : { ...process.env, PIPELINE_REDIS_URL: options.redisUrl }
  const child = spawn(process.execPath, [options.bin, 'up', ...backgroundArgs(options.argv)], { cwd: projectDir, detached: true, stdio: ['ignore', log, log], env })
  closeSync(log)
  let exited: number | null = null
  child.on('exit', (code) => {
    exited = code ?? 1
  })
  child.unref()
  const pid = child.pid
  const until = Date.now() + (options.timeoutMs ?? 30_000)
  while (pid !== undefined && exited === null && Date.now() < until) {
    const record = readUpRecord(projectDir)
    if (record?.pid === pid) return record
    await sleep(100)
  }
  if (pid !== undefined && exited === null) process.kill(pid, 'SIGTERM')
  throw new EventspineError('E_UP_DETACH', `pipeline up did not start in the background${exited === null ? ' in time' : ` (exit code ${exited})`}.`, {
    hint: `Its log ${paths.log} ends with:\n${tail(paths.log)}`,
  })
}

export interface DownResult {
  /** The `pipeline up` process stopped, if one was running. */
  readonly up: { readonly pid: number; readonly graceful: boolean } | null
  /** The managed redis-server stopped, if there was one to stop. */
  readonly redis: { readonly pid: number } | null
  /** The nodes of the managed Redis Cluster stopped (`up --cluster`), if it ran. */
  readonly cluster: { readonly pids: readonly number[] } | null
}

/**
 * Stops the project's `pipeline up` (SIGTERM, then waits for it to drain and exit; SIGKILL after
 * `timeoutMs`) and the managed redis-server it started.
 */
export async function stopUp(options: { projectDir: string; timeoutMs?: number }): Promise<DownResult> {
  const projectDir = resolve(options.projectDir)
  const record = findLiveUp(projectDir)
  let up: DownResult['up'] = null
  if (record !== undefined) {
    process.kill(record.pid, 'SIGTERM')
    const until = Date.now() + (options.timeoutMs ?? 30_000)
    while (isPidAlive(record.pid) && Date.now() < until) await sleep(100)
    const graceful = !isPidAlive(record.pid)
    if (!graceful) process.kill(record.pid, 'SIGKILL')
    up = { pid: record.pid, graceful }
  }
  // A server `up` started and kept (--detach), or one left behind by an `up` that died.
  const managed = readManagedRecord(projectDir)
  const ours = managed !== undefined && (record === undefined || record.redisSource === 'managed-started')
  const stopped = ours ? await stopManagedRedis(projectDir) : { stopped: false }
  const clusterOurs = readClusterRecord(managedClusterDir(projectDir)) !== undefined && (record === undefined || record.redisSource === 'managed-started')
  const cluster = clusterOurs ? await stopManagedCluster(projectDir) : { pids: [] }
  return { up, redis: stopped.stopped && stopped.pid !== undefined ? { pid: stopped.pid } : null, cluster: cluster.pids.length > 0 ? { pids: cluster.pids } : null }
}

/** The same `up` arguments minus --detach and --redis-url (moved to the environment), plus --background. */
export function backgroundArgs(argv: readonly string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (arg === '--detach' || arg.startsWith('--redis-url=')) continue
    if (arg === '--redis-url') {
      i++
      continue
    }
    out.push(arg)
  }
  return [...out, '--background']
}

function tail(path: string): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-15).join('\n')
  } catch {
    return '(no log)'
  }
}
