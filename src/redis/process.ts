import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { parseInfo } from './inspect.js'

// Helpers around the redis-server process: is it alive, does it answer, stop it.

export function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** One PING on loopback with a short timeout; false on any failure. */
export async function answersPing(port: number, timeoutMs = 1_000): Promise<boolean> {
  const probe = probeClient(port, timeoutMs)
  try {
    await probe.connect()
    return (await probe.ping()) === 'PONG'
  } catch {
    return false
  } finally {
    probe.disconnect()
  }
}

/** SIGTERM (Redis shuts down cleanly), then SIGKILL after 10 s. Polls: the child is unref'd. */
export async function terminate(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM')
  } catch {
    return
  }
  const deadline = Date.now() + 10_000
  while (isPidAlive(pid)) {
    if (Date.now() > deadline) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        return
      }
    }
    await sleep(25)
  }
}

export function isRedisServerPid(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('redis-server')
  } catch {
    return false
  }
}

export function tailOf(file: string): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-5).join('\n')
  } catch {
    return ''
  }
}

export function probeClient(port: number, timeoutMs: number): Redis {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    disconnectTimeout: 200, // see clientOptions: a failed probe must not hold the process 2 s
  })
  client.on('error', () => {})
  return client
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (address && typeof address === 'object' ? resolvePort(address.port) : reject(new Error('no free port'))))
    })
  })
}

/**
 * Waits until the redis-server process `pid` answers on `port` (its INFO says so: another
 * server may take a port in the moment it is free). False when it dies or `timeoutMs` passes.
 */
export async function waitUntilServing(port: number, pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline && isPidAlive(pid)) {
    if ((await servingPid(port)) === pid) return true
    await sleep(50)
  }
  return false
}

async function servingPid(port: number): Promise<number | undefined> {
  const probe = probeClient(port, 500)
  try {
    await probe.connect()
    return Number(parseInfo(await probe.info('server'))['process_id'])
  } catch {
    return undefined
  } finally {
    probe.disconnect()
  }
}
