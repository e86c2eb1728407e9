import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { EventspineError } from '../errors.js'
import { requireRedisServer } from './binary.js'
import { RedisErrorCode } from './errors.js'
import { redisServerArgs, spawnRedisServer } from './server.js'
import { answersPing, freePort, waitUntilServing, isPidAlive, isRedisServerPid, probeClient, tailOf, terminate } from './process.js'

export { isPidAlive } from './process.js'

/** What `.pipeline/redis.json` records about the redis-server we started for a project. */
export interface ManagedRecord {
  pid: number
  port: number
  /** Data directory (AOF lives here). */
  dir: string
  url: string
  durability: 'default' | 'strict'
  startedAt: string
  /**
   * Started only to read the project's saved data: the last of its readers stops it, unless a
   * command that runs the pipeline (`up`) has taken it over meanwhile.
   */
  temporary?: boolean
}

/**
 * What a command wants the managed server for. `run`: it may start one and then owns it (and
 * takes over a temporary one); `join`: it uses a running one (publish, worker); `read`: it
 * reads saved data, so a server it starts is temporary.
 */
export type ManagedUse = 'run' | 'join' | 'read'

export interface ManagedPaths {
  record: string
  lock: string
  dataDir: string
}

export function managedPaths(projectDir: string): ManagedPaths {
  const state = join(resolve(projectDir), '.pipeline')
  return { record: join(state, 'redis.json'), lock: join(state, 'redis.lock'), dataDir: join(state, 'redis') }
}

/**
 * True when the project's data dir holds an append-only file, i.e. a managed redis-server has
 * run here and its data can be read back by starting it again.
 */
export function hasSavedData(projectDir: string): boolean {
  const { dataDir } = managedPaths(projectDir)
  // Redis 7 writes appendonlydir/ with a manifest; Redis 6 and older one appendonly.aof.
  return existsSync(join(dataDir, 'appendonlydir', 'appendonly.aof.manifest')) || existsSync(join(dataDir, 'appendonly.aof'))
}

export function readManagedRecord(projectDir: string): ManagedRecord | undefined {
  return readRecordAt(managedPaths(projectDir).record)
}

function readRecordAt(path: string): ManagedRecord | undefined {
  try {
    const value = JSON.parse(readFileSync(path, 'utf8')) as Partial<ManagedRecord>
    if (typeof value.pid !== 'number' || typeof value.port !== 'number' || typeof value.url !== 'string') return undefined
    return value as ManagedRecord
  } catch {
    return undefined
  }
}

/** The recorded server when its pid is alive AND it answers PING; otherwise the record is stale. */
export async function findLiveManagedRedis(projectDir: string): Promise<ManagedRecord | undefined> {
  const record = readManagedRecord(projectDir)
  if (record === undefined || !isPidAlive(record.pid)) return undefined
  return (await answersPing(record.port)) ? record : undefined
}

export interface ManagedRedis {
  record: ManagedRecord
  /** True when this process started it (false: reused one already running). */
  started: boolean
  /** Stops it when this process started it and was not asked to keep it running. */
  release(): Promise<void>
}

export interface EnsureManagedOptions {
  projectDir: string
  durability: 'default' | 'strict'
  keepRunning: boolean
  env?: NodeJS.ProcessEnv
  /** Default `run`. */
  use?: ManagedUse
}

/**
 * Reuses the project's running redis-server or starts one. A lock file created with `wx`
 * makes two `pipeline` processes starting at once agree: one starts, the other reuses it.
 */
export async function ensureManagedRedis(options: EnsureManagedOptions): Promise<ManagedRedis> {
  const paths = managedPaths(options.projectDir)
  mkdirSync(paths.dataDir, { recursive: true })
  const deadline = Date.now() + 30_000
  const takesOver = (record: ManagedRecord) => record.temporary === true && (options.use ?? 'run') === 'run'
  for (;;) {
    const live = await findLiveManagedRedis(options.projectDir)
    // Taking over a temporary server happens under the lock, so its readers cannot stop it meanwhile.
    if (live && !takesOver(live)) return reuse(paths, live, options)
    const unlock = tryLock(paths.lock)
    if (unlock) {
      try {
        const again = await findLiveManagedRedis(options.projectDir)
        if (again) return takesOver(again) ? await takeOver(paths, again, options) : await reuse(paths, again, options)
        rmSync(paths.record, { force: true }) // stale: its pid is gone or it no longer answers
        return await startServer(paths, options)
      } finally {
        unlock()
      }
    }
    if (Date.now() > deadline) {
      throw new EventspineError(RedisErrorCode.StartFailed, `Another pipeline process has been starting Redis for 30 s (${paths.lock}).`, {
        hint: `If no other pipeline command is running, delete ${paths.lock} and try again.`,
      })
    }
    await sleep(100)
  }
}

/**
 * Stops the project's managed redis-server (for `pipeline down`) and removes its record.
 * Only a process that still answers as our Redis, or is a redis-server, is signalled: a pid
 * from a stale record may belong to something else by now.
 */
export async function stopManagedRedis(projectDir: string): Promise<{ stopped: boolean; pid?: number }> {
  const paths = managedPaths(projectDir)
  const record = readManagedRecord(projectDir)
  if (record === undefined) return { stopped: false }
  const ours = isPidAlive(record.pid) && ((await answersPing(record.port)) || isRedisServerPid(record.pid))
  if (ours) await terminate(record.pid)
  rmSync(paths.record, { force: true })
  return ours ? { stopped: true, pid: record.pid } : { stopped: false }
}

async function reuse(paths: ManagedPaths, record: ManagedRecord, options: EnsureManagedOptions): Promise<ManagedRedis> {
  await tighten(record, options.durability)
  // Another reader of a temporary server: whichever of them ends last stops it.
  const release = record.temporary === true && options.use === 'read' ? () => releaseTemporary(paths, record) : async () => {}
  return { record, started: false, release }
}

/** `up` after a reader started the server: the record loses `temporary`, and `up` owns it as if it had started it. */
async function takeOver(paths: ManagedPaths, record: ManagedRecord, options: EnsureManagedOptions): Promise<ManagedRedis> {
  await tighten(record, options.durability)
  const { pid, port, dir, url, startedAt } = record
  const owned: ManagedRecord = { pid, port, dir, url, startedAt, durability: options.durability === 'strict' ? 'strict' : record.durability }
  writeRecord(paths.record, owned)
  return started(paths, owned, options.keepRunning)
}

async function tighten(record: ManagedRecord, durability: 'default' | 'strict'): Promise<void> {
  if (durability !== 'strict' || record.durability === 'strict') return
  // Tighten a running server rather than restart it; fsync on every write from now on.
  const client = probeClient(record.port, 2_000)
  try {
    await client.connect()
    await client.config('SET', 'appendfsync', 'always')
  } finally {
    client.disconnect()
  }
}

/**
 * Stops a temporary server unless a command took it over (its record is no longer temporary)
 * or another client still uses it. Under the lock, so nobody takes it over while it stops.
 */
async function releaseTemporary(paths: ManagedPaths, record: ManagedRecord): Promise<void> {
  const deadline = Date.now() + 30_000
  let unlock = tryLock(paths.lock)
  for (; unlock === undefined; unlock = tryLock(paths.lock)) {
    if (Date.now() > deadline) return // leave it running rather than stop it under someone
    await sleep(100)
  }
  try {
    if (!isStillTemporary(paths, record.pid) || (await othersConnected(record.port))) return
    await terminate(record.pid)
    removeRecordIf(paths.record, record.pid)
  } finally {
    unlock()
  }
}

function isStillTemporary(paths: ManagedPaths, pid: number): boolean {
  const current = readRecordAt(paths.record)
  return current?.pid === pid && current.temporary === true
}

/** Whether a client other than this probe is connected; our own just-closed connections get a moment to go. */
async function othersConnected(port: number): Promise<boolean> {
  const client = probeClient(port, 2_000)
  try {
    await client.connect()
    const deadline = Date.now() + 2_000
    for (;;) {
      const list = String(await client.call('CLIENT', 'LIST'))
      if (list.trim().split('\n').length <= 1) return false
      if (Date.now() > deadline) return true
      await sleep(50)
    }
  } catch {
    return false // not answering: nobody can be using it
  } finally {
    client.disconnect()
  }
}

async function startServer(paths: ManagedPaths, options: EnsureManagedOptions): Promise<ManagedRedis> {
  const binary = await requireRedisServer(options.env)
  const logFile = join(paths.dataDir, 'redis.log')
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    const args = redisServerArgs({ port, dir: paths.dataDir, appendfsync: options.durability === 'strict' ? 'always' : 'everysec', logFile })
    // Its own process group: Ctrl-C must not stop Redis while our consumers still drain.
    const child = spawnRedisServer(binary.path, args, { cwd: paths.dataDir, lifetime: 'detached' })
    const pid = child.pid
    if (pid !== undefined && (await waitUntilServing(port, pid, 10_000))) {
      const record: ManagedRecord = {
        pid,
        port,
        dir: paths.dataDir,
        url: `redis://127.0.0.1:${port}`,
        durability: options.durability,
        startedAt: new Date().toISOString(),
        ...(options.use === 'read' ? { temporary: true } : {}),
      }
      writeRecord(paths.record, record)
      return started(paths, record, options.keepRunning)
    }
    if (pid !== undefined && isPidAlive(pid)) await terminate(pid)
    const log = tailOf(logFile)
    // Another process may grab the free port between our check and redis binding it.
    if (/address already in use/i.test(log) && attempt < 3) continue
    throw new EventspineError(RedisErrorCode.StartFailed, `redis-server (${binary.path}) did not start on port ${port}.`, {
      hint: `See its log at ${logFile}${log ? `; last lines:\n${log}` : ''}`,
    })
  }
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const

function started(paths: ManagedPaths, record: ManagedRecord, keepRunning: boolean): ManagedRedis {
  if (keepRunning) return { record, started: true, release: async () => {} }
  const unhook = () => {
    process.off('exit', onExit)
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal)
  }
  const temporary = record.temporary === true
  // If we exit without release(), still stop it (SIGTERM lets it fsync the AOF), unless `up`
  // took it over. Too late here to ask who else is connected.
  const onExit = () => {
    unhook()
    if (temporary && !isStillTemporary(paths, record.pid)) return
    try {
      process.kill(record.pid, 'SIGTERM')
    } catch {
      // already gone
    }
    removeRecordIf(paths.record, record.pid)
  }
  // A signal nobody else handles would kill us without an 'exit' event: stop Redis, then die
  // of the same signal. When the command has its own handler (to drain), it calls release().
  const onSignal = (signal: NodeJS.Signals) => {
    if (process.listenerCount(signal) > 1) return
    onExit()
    process.kill(process.pid, signal)
  }
  process.once('exit', onExit)
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal)
  let released = false
  return {
    record,
    started: true,
    async release() {
      if (released) return
      released = true
      if (temporary) {
        // Hooks stay until it is decided: a second Ctrl-C meanwhile still stops it on exit.
        try {
          await releaseTemporary(paths, record)
        } finally {
          unhook()
        }
        return
      }
      unhook()
      await terminate(record.pid)
      removeRecordIf(paths.record, record.pid)
    },
  }
}

function tryLock(lockPath: string): (() => void) | undefined {
  try {
    const fd = openSync(lockPath, 'wx')
    writeSync(fd, String(process.pid))
    closeSync(fd)
    return () => rmSync(lockPath, { force: true })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  }
  // A lock whose holder died (or that is empty and old) is stale: remove it and let the caller retry.
  try {
    const holder = Number(readFileSync(lockPath, 'utf8'))
    const old = Date.now() - statSync(lockPath).mtimeMs > 5_000
    if (Number.isInteger(holder) && holder > 0 ? !isPidAlive(holder) : old) rmSync(lockPath, { force: true })
  } catch {
    // removed meanwhile
  }
  return undefined
}

function writeRecord(path: string, record: ManagedRecord): void {
  const tmp = `${path}.${process.pid}.tmp`
  const fd = openSync(tmp, 'w')
  writeSync(fd, `${JSON.stringify(record, null, 2)}\n`)
  closeSync(fd)
  renameSync(tmp, path)
}

function removeRecordIf(path: string, pid: number): void {
  try {
    const current = JSON.parse(readFileSync(path, 'utf8')) as { pid?: unknown }
    if (current.pid === pid) rmSync(path, { force: true })
  } catch {
    // no record
  }
}

