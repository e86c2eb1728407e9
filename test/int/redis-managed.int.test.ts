import { execFile, spawn, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import { hasCode } from '../../src/errors.js'
import { isPidAlive, managedPaths, readManagedRecord, stopManagedRedis } from '../../src/redis/managed.js'
import { resolveRedis, type ResolvedRedis } from '../../src/redis/resolve.js'
import { freePort } from '../support/redis-server.js'

// Only PATH: no PIPELINE_REDIS_URL / REDIS_URL from the developer's shell.
const env = { PATH: process.env['PATH'] ?? '' }
const cleanups: Array<() => Promise<void>> = []

function tempProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'eventspine-project-'))
  cleanups.push(async () => {
    await stopManagedRedis(dir)
    rmSync(dir, { recursive: true, force: true })
  })
  return dir
}

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup()
})

async function configOf(url: string, name: string): Promise<string | undefined> {
  const client = new Redis(url)
  try {
    const [, value] = (await client.config('GET', name)) as [string, string]
    return value
  } finally {
    client.disconnect()
  }
}

/** resolveRedis in a separate process (as a second `pipeline` would), which then exits. */
function childArgs(projectDir: string, keepRunning: boolean, after = ''): string[] {
  const script = `
    import { resolveRedis } from ${JSON.stringify(new URL('../../src/redis/resolve.ts', import.meta.url).pathname)}
    const r = await resolveRedis({ projectDir: process.argv[1], keepRunning: process.argv[2] === 'keep' })
    console.log(JSON.stringify({ source: r.source, pid: r.managed?.pid }))
    ${after}`
  return ['--import', 'tsx', '--input-type=module', '-e', script, projectDir, keepRunning ? 'keep' : 'stop']
}

async function resolveInChild(projectDir: string, keepRunning: boolean): Promise<{ source: string; pid: number }> {
  return new Promise((done, fail) => {
    execFile(process.execPath, childArgs(projectDir, keepRunning), { env }, (error, stdout) =>
      error ? fail(error) : done(JSON.parse(stdout) as { source: string; pid: number }),
    )
  })
}

async function waitUntilDead(pid: number): Promise<boolean> {
  for (let i = 0; i < 400 && isPidAlive(pid); i++) await new Promise((r) => setTimeout(r, 25))
  return !isPidAlive(pid)
}

describe('managed redis-server', () => {
  it('starts one in the project, reuses it, and stops it on release', async () => {
    const projectDir = tempProject()
    const first = await resolveRedis({ projectDir, env })
    expect(first.source).toBe('managed-started')
    expect(first.managed?.dir).toBe(managedPaths(projectDir).dataDir)
    expect(readManagedRecord(projectDir)?.pid).toBe(first.managed?.pid)
    expect(await configOf(first.url, 'appendonly')).toBe('yes')
    expect(await configOf(first.url, 'appendfsync')).toBe('everysec')
    expect(await configOf(first.url, 'maxmemory-policy')).toBe('noeviction')
    expect(await configOf(first.url, 'save')).toBe('')

    const second = await resolveRedis({ projectDir, env })
    expect(second.source).toBe('managed-existing')
    expect(second.url).toBe(first.url)
    await second.release() // not ours: must not stop it
    expect(isPidAlive(first.managed?.pid ?? -1)).toBe(true)

    await first.release()
    expect(isPidAlive(first.managed?.pid ?? -1)).toBe(false)
    expect(readManagedRecord(projectDir)).toBeUndefined()
  })

  it('ignores a stale record (dead pid, or a live pid that does not answer PING)', async () => {
    const projectDir = tempProject()
    const paths = managedPaths(projectDir)
    mkdirSync(paths.dataDir, { recursive: true })
    const dead = spawnSync('true').pid
    const closedPort = await freePort()
    for (const pid of [dead, process.pid]) {
      const record = { pid, port: closedPort, dir: paths.dataDir, url: `redis://127.0.0.1:${closedPort}`, durability: 'default', startedAt: '' }
      writeFileSync(paths.record, JSON.stringify(record))
      const resolved = await resolveRedis({ projectDir, env })
      expect(resolved.source).toBe('managed-started')
      expect(resolved.managed?.pid).not.toBe(pid)
      await resolved.release()
    }
  })

  it('two resolves at once start one server; the other reuses it', async () => {
    const projectDir = tempProject()
    const both = await Promise.all([resolveRedis({ projectDir, env }), resolveRedis({ projectDir, env })])
    expect(both.map((r) => r.source).sort()).toEqual(['managed-existing', 'managed-started'])
    expect(both[0].url).toBe(both[1].url)
    await Promise.all(both.map((r) => r.release()))
  })

  it('two processes starting at once share one server', async () => {
    const projectDir = tempProject()
    const runs = await Promise.all([resolveInChild(projectDir, true), resolveInChild(projectDir, true), resolveInChild(projectDir, true)])
    expect(runs.map((r) => r.source).sort()).toEqual(['managed-existing', 'managed-existing', 'managed-started'])
    expect(new Set(runs.map((r) => r.pid)).size).toBe(1)
    expect(isPidAlive(runs[0].pid)).toBe(true)
  })

  it('a process that started it and exits without release still stops it', async () => {
    const projectDir = tempProject()
    const run = await resolveInChild(projectDir, false)
    expect(run.source).toBe('managed-started')
    expect(await waitUntilDead(run.pid)).toBe(true)
    expect(readManagedRecord(projectDir)).toBeUndefined()
  })

  it('Ctrl-C (SIGINT) on a process that started it stops it too', async () => {
    const projectDir = tempProject()
    const child = spawn(process.execPath, childArgs(projectDir, false, 'setInterval(() => {}, 1000)'), { env, stdio: ['ignore', 'pipe', 'inherit'] })
    const line = await new Promise<string>((done) => child.stdout.once('data', (chunk: Buffer) => done(chunk.toString())))
    const { pid } = JSON.parse(line) as { pid: number }
    const exited = new Promise<NodeJS.Signals | null>((done) => child.once('exit', (_code, signal) => done(signal)))
    child.kill('SIGINT')
    expect(await exited).toBe('SIGINT')
    expect(await waitUntilDead(pid)).toBe(true)
    expect(readManagedRecord(projectDir)).toBeUndefined()
  })

  it('strict durability fsyncs every write, also when reusing a running server', async () => {
    const projectDir = tempProject()
    const first = await resolveRedis({ projectDir, env })
    expect(await configOf(first.url, 'appendfsync')).toBe('everysec')
    const strict = await resolveRedis({ projectDir, env, durability: 'strict' })
    expect(strict.source).toBe('managed-existing')
    expect(await configOf(first.url, 'appendfsync')).toBe('always')
    await first.release()
    const fresh = await resolveRedis({ projectDir, env, durability: 'strict' })
    expect(await configOf(fresh.url, 'appendfsync')).toBe('always')
    await fresh.release()
  })

  it('keepRunning leaves it up after release; stopManagedRedis stops it', async () => {
    const projectDir = tempProject()
    const resolved: ResolvedRedis = await resolveRedis({ projectDir, env, keepRunning: true })
    await resolved.release()
    const pid = resolved.managed?.pid ?? -1
    expect(isPidAlive(pid)).toBe(true)
    expect(await stopManagedRedis(projectDir)).toEqual({ stopped: true, pid })
    expect(isPidAlive(pid)).toBe(false)
    expect(await stopManagedRedis(projectDir)).toEqual({ stopped: false })
  })

  it('without redis-server on PATH: one clear error naming the package to install', async () => {
    const projectDir = tempProject()
    const emptyBin = join(projectDir, 'empty-bin')
    mkdirSync(emptyBin)
    const error = await resolveRedis({ projectDir, env: { PATH: emptyBin } }).catch((e: unknown) => e)
    expect(hasCode(error, 'E_REDIS_BINARY_MISSING')).toBe(true)
    const { message, hint } = error as { message: string; hint: string }
    expect(message).toContain('redis-server')
    expect(hint).toContain('sudo apt-get install redis-server')
    expect(hint).toContain('brew install redis')
    expect(hint).toContain('--redis-url')
  })

  it('startIfMissing: false does not start one', async () => {
    const projectDir = tempProject()
    const error = await resolveRedis({ projectDir, env, startIfMissing: false }).catch((e: unknown) => e)
    expect(hasCode(error, 'E_REDIS_NOT_RUNNING')).toBe(true)
    expect(readManagedRecord(projectDir)).toBeUndefined()
  })
})
