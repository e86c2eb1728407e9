import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { freePort } from '../../src/redis/process.js'
import { redisServerEnv } from '../../src/redis/binary.js'
import { redisServerArgs } from '../../src/redis/server.js'

export { freePort }

export interface TestRedis {
  readonly url: string
  readonly port: number
  readonly dir: string
  readonly process: ChildProcess
  stop(): Promise<void>
  /** Kill -9 and start again on the same port and data dir (AOF replays what was fsynced). */
  restart(options?: { signal?: NodeJS.Signals }): Promise<TestRedis>
}

/**
 * Starts a throwaway redis-server on a free loopback port with its own data dir. Tests use this
 * through vitest globalSetup (one server per run) or directly when they need to kill it.
 */
export async function startTestRedis(
  options: { port?: number; dir?: string; appendfsync?: 'always' | 'everysec'; extraArgs?: string[] } = {},
): Promise<TestRedis> {
  const port = options.port ?? (await freePort())
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'eventspine-redis-'))
  // Our servers' settings, quieter logs, then the test's own (later arguments win).
  const args = [...redisServerArgs({ port, dir, appendfsync: options.appendfsync ?? 'everysec' }), '--loglevel', 'warning', ...(options.extraArgs ?? [])]
  const child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'], env: redisServerEnv() })
  let spawnError: Error | undefined
  child.on('error', (error) => {
    spawnError = error
  })
  // With --requirepass the URL carries the password, as a user's would (tests of redaction use it).
  const extra = options.extraArgs ?? []
  const passwordAt = extra.indexOf('--requirepass')
  const password = passwordAt >= 0 ? extra[passwordAt + 1] : undefined
  const url = password === undefined ? `redis://127.0.0.1:${port}` : `redis://:${encodeURIComponent(password)}@127.0.0.1:${port}`
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
  probe.on('error', () => {})
  for (let i = 0; ; i++) {
    if (spawnError) throw new Error(`could not start redis-server: ${spawnError.message}`)
    try {
      await probe.connect()
      await probe.ping()
      break
    } catch {
      probe.disconnect()
      if (i > 200) {
        child.kill('SIGKILL')
        throw new Error(`redis-server on port ${port} did not answer within 10 s`)
      }
      await sleep(50)
    }
  }
  probe.disconnect()
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill(signal)
    await exited
  }
  // After a restart the server is another process: stop() must reach it, whichever object a test kept.
  let next: TestRedis | undefined
  const self: TestRedis = {
    url,
    port,
    dir,
    process: child,
    async stop() {
      await stop()
      await next?.stop()
      if (options.dir === undefined) rmSync(dir, { recursive: true, force: true })
    },
    async restart(restartOptions = {}) {
      if (next !== undefined) return next.restart(restartOptions)
      await stop(restartOptions.signal ?? 'SIGKILL')
      next = await startTestRedis({ ...options, port, dir })
      return next
    },
  }
  return self
}
