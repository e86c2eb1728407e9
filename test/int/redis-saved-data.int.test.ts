import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Redis } from 'ioredis'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createBus } from '../../src/bus/index.js'
import { hasCode } from '../../src/errors.js'
import { SAVED_DATA_NOTICE } from '../../src/pipeline/connection.js'
import { receivedEvent } from '../../src/pipeline/index.js'
import { traceFile } from '../../src/pipeline/inspect/index.js'
import { dlqList } from '../../src/pipeline/repair.js'
import { hasSavedData, isPidAlive, managedPaths, readManagedRecord, stopManagedRedis } from '../../src/redis/managed.js'
import { resolveRedis } from '../../src/redis/resolve.js'

// A stopped `pipeline up` leaves its data in .pipeline/redis: the reading commands start the
// project's redis-server on it for as long as they run, and stop it again.
const env = { PATH: process.env['PATH'] ?? '' }
const NAMESPACE = 'saved'
const GOOD = resolve('fixtures/inbox/northwind-nav-2026-11-24.csv')
const cleanups: Array<() => Promise<void>> = []

function tempProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'eventspine-saved-'))
  cleanups.push(async () => {
    await stopManagedRedis(dir)
    rmSync(dir, { recursive: true, force: true })
  })
  return dir
}

beforeEach(() => {
  // withPipelineBus reads process.env: no Redis URL from the developer's shell.
  for (const name of ['PIPELINE_REDIS_URL', 'REDIS_URL']) vi.stubEnv(name, undefined)
})

afterEach(async () => {
  vi.unstubAllEnvs()
  vi.restoreAllMocks()
  for (const cleanup of cleanups.splice(0)) await cleanup()
})

/** As `pipeline up` then Ctrl-C: a managed server receives one file, then stops. */
async function projectWithSavedFile(): Promise<{ projectDir: string; correlationId: string }> {
  const projectDir = tempProject()
  const redis = await resolveRedis({ projectDir, env })
  const bus = await createBus({ url: redis.url, namespace: NAMESPACE, warn: () => {} })
  const [published] = await bus.publish(receivedEvent('northwind-nav-2026-11-24.csv', readFileSync(GOOD)))
  await bus.close()
  await redis.release()
  expect(isPidAlive(redis.managed?.pid ?? -1)).toBe(false)
  return { projectDir, correlationId: published?.correlationId as string }
}

function stderrLines(): string[] {
  const lines: string[] = []
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk))
    return true
  })
  return lines
}

async function waitUntilDead(pid: number): Promise<boolean> {
  for (let i = 0; i < 400 && isPidAlive(pid); i++) await new Promise((r) => setTimeout(r, 25))
  return !isPidAlive(pid)
}

describe('saved managed Redis data', () => {
  it('a project where nothing ran: E_REDIS_NOT_RUNNING, and nothing is started', async () => {
    const projectDir = tempProject()
    expect(hasSavedData(projectDir)).toBe(false)
    const error = await resolveRedis({ projectDir, env, startIfMissing: 'when-saved' }).catch((e: unknown) => e)
    expect(hasCode(error, 'E_REDIS_NOT_RUNNING')).toBe(true)
    expect((error as { hint: string }).hint).toContain('pipeline up')
    // A data dir without an append-only file (redis-server never got to start) is no data either.
    mkdirSync(managedPaths(projectDir).dataDir, { recursive: true })
    const viaTrace = await traceFile({ projectDir, namespace: NAMESPACE, target: 'some-correlation-id' }).catch((e: unknown) => e)
    expect(hasCode(viaTrace, 'E_REDIS_NOT_RUNNING')).toBe(true)
    expect(readManagedRecord(projectDir)).toBeUndefined()
  })

  it('trace reads a stopped server\'s data: starts it, says so on stderr, and stops it again', async () => {
    const { projectDir, correlationId } = await projectWithSavedFile()
    expect(hasSavedData(projectDir)).toBe(true)
    const stderr = stderrLines()
    let during: ReturnType<typeof readManagedRecord>
    const trace = await traceFile({ projectDir, namespace: NAMESPACE, target: correlationId, onUpdate: () => (during = readManagedRecord(projectDir)) })
    expect(trace.correlationId).toBe(correlationId)
    expect(trace.events).toBe(1)
    expect(during).toMatchObject({ temporary: true, durability: 'default' })
    expect(stderr).toEqual([`${SAVED_DATA_NOTICE}\n`])
    expect(await waitUntilDead(during?.pid ?? -1)).toBe(true)
    expect(readManagedRecord(projectDir)).toBeUndefined()

    // Every read starts it afresh (dlq list goes the same way), and what it wrote is kept.
    expect(await dlqList({ projectDir, namespace: NAMESPACE })).toEqual([])
    expect(stderr).toHaveLength(2)
    expect(readManagedRecord(projectDir)).toBeUndefined()
  })

  it('publish and worker (startIfMissing: false) still never start it', async () => {
    const { projectDir } = await projectWithSavedFile()
    const error = await resolveRedis({ projectDir, env, startIfMissing: false }).catch((e: unknown) => e)
    expect(hasCode(error, 'E_REDIS_NOT_RUNNING')).toBe(true)
    expect(readManagedRecord(projectDir)).toBeUndefined()
  })

  it('`pipeline up` while a reader has it: up takes it over, the reader leaves it running', async () => {
    const { projectDir } = await projectWithSavedFile()
    const reader = await resolveRedis({ projectDir, env, startIfMissing: 'when-saved' })
    expect(reader.source).toBe('managed-started')
    const up = await resolveRedis({ projectDir, env })
    expect(up.source).toBe('managed-started') // it owns it now: it stops it, `down` stops it
    expect(up.managed?.pid).toBe(reader.managed?.pid)
    expect(readManagedRecord(projectDir)?.temporary).toBeUndefined()
    const client = new Redis(up.url) // up's connections
    try {
      await reader.release()
      expect(await client.ping()).toBe('PONG')
    } finally {
      client.disconnect()
    }
    await up.release()
    expect(isPidAlive(up.managed?.pid ?? -1)).toBe(false)
    expect(readManagedRecord(projectDir)).toBeUndefined()
  })

  it('two readers at once share it; the last one to finish stops it', async () => {
    const { projectDir } = await projectWithSavedFile()
    const first = await resolveRedis({ projectDir, env, startIfMissing: 'when-saved' })
    const second = await resolveRedis({ projectDir, env, startIfMissing: 'when-saved' })
    expect([first.source, second.source]).toEqual(['managed-started', 'managed-existing'])
    const pid = first.managed?.pid ?? -1
    const client = new Redis(second.url) // the second reader, still reading
    await first.release()
    expect(await client.ping()).toBe('PONG')
    client.disconnect()
    await second.release()
    expect(await waitUntilDead(pid)).toBe(true)
    expect(readManagedRecord(projectDir)).toBeUndefined()
  })

  it('a worker joining a reader\'s server does not take it over', async () => {
    const { projectDir } = await projectWithSavedFile()
    const reader = await resolveRedis({ projectDir, env, startIfMissing: 'when-saved' })
    const worker = await resolveRedis({ projectDir, env, startIfMissing: false })
    expect(worker.source).toBe('managed-existing')
    expect(readManagedRecord(projectDir)?.temporary).toBe(true)
    await worker.release()
    await reader.release()
    expect(await waitUntilDead(reader.managed?.pid ?? -1)).toBe(true)
  })
})
