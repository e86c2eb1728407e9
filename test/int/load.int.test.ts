import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { generateDay } from '../../src/sim/day.js'
import { runLoad } from '../../src/sim/drive-day.js'
import { dayTime, type LoadProgress } from '../../src/sim/load-progress.js'
import { describe as describeOutcome } from '../../src/sim/outcome.js'
import { writeDay } from '../../src/sim/store.js'
import { testNamespace, testRedisUrl } from '../support/namespace.js'

const dir = mkdtempSync(join(tmpdir(), 'sim-load-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function keysOf(namespace: string): Promise<number> {
  const redis = new Redis(testRedisUrl())
  try {
    const [, keys] = await redis.scan('0', 'MATCH', `{${namespace}}:*`, 'COUNT', 10_000)
    return keys.length
  } finally {
    redis.disconnect()
  }
}

describe('pipeline load, end to end on Redis', () => {
  it('drives a small faulty day through every stage with zero mismatches, then deletes its namespace', async () => {
    // A few hundred events, a fault in one file of four: every kind of ending occurs.
    const day = writeDay(generateDay({ eventsPerDay: 400, date: '2026-11-20', seed: 21, faults: 0.25 }), join(dir, 'day'))
    const namespace = testNamespace('load')
    const progress: number[] = []
    const report = await runLoad({ url: testRedisUrl(), namespace, day, speed: 'max', maxInFlight: 32, outDir: join(dir, 'out'), onProgress: (p) => progress.push(p.done) })

    expect(report.mismatchList.map((m) => `${m.file} [${m.faults.join()}]: ${describeOutcome(m.expected)} vs ${describeOutcome(m.actual)}`)).toEqual([])
    expect(report.mismatches).toBe(0)
    expect(report.files).toBe(day.manifest.files.length)
    expect(report.outcomes.missing).toBe(0)
    expect(report.outcomes.rejected).toBeGreaterThan(0)
    expect(report.events).toBe(day.manifest.expectedEvents)
    expect(report.latencyMs.count).toBe(report.files)
    expect(report.latencyMs.p50).toBeLessThanOrEqual(report.latencyMs.p99)
    expect(report.latencyMs.p99).toBeLessThanOrEqual(report.latencyMs.max)
    expect(report.deadLetters).toBe(0)
    expect(Object.keys(report.stageLag)).toEqual(expect.arrayContaining(['ingest', 'map', 'validate', 'enrich', 'resolve', 'score', 'deliver']))
    expect(progress.at(-1)).toBe(report.files)
    expect(await keysOf(namespace)).toBe(0)
  })

  it('at a multiple of real time, publishes a window of the day after a warm-up and keeps the namespace with keep', async () => {
    const day = writeDay(generateDay({ eventsPerDay: 1000, date: '2026-11-20', seed: 8, faults: 0 }), join(dir, 'day-window'))
    const namespace = testNamespace('load')
    // 17:00-19:00 at 3600x: the evening rush in about two seconds.
    const window = { fromMs: 17 * 3_600_000, toMs: 19 * 3_600_000 }
    const report = await runLoad({ url: testRedisUrl(), namespace, day, speed: 3600, window, outDir: join(dir, 'out-window'), keep: true })
    const inWindow = day.manifest.files.filter((f) => f.arrivalMs >= window.fromMs && f.arrivalMs < window.toMs).length
    expect(inWindow).toBeGreaterThan(5)
    expect(report.mismatches).toBe(0)
    expect(report.files).toBe(day.manifest.files.filter((f) => f.arrivalMs < window.toMs).length)
    expect(report.latencyMs.count).toBe(inWindow)
    expect(report.speed).toBe('3600x')
    expect(await keysOf(namespace)).toBeGreaterThan(0)
  })

  it('a paced run says it is warming up, then waiting for the next arrival with the time left, instead of sitting at 0% ETA 0s', async () => {
    const day = writeDay(generateDay({ eventsPerDay: 120, date: '2026-11-21', seed: 5, faults: 0 }), join(dir, 'paced'))
    const files = day.manifest.files
    const k = Math.floor(files.length / 2)
    const first = files[k]
    const before = files[k - 1]
    if (first === undefined || before === undefined || first.arrivalMs <= before.arrivalMs + 1) throw new Error('the generated day needs a gap before its middle file')
    const fromMs = before.arrivalMs + 1
    // The window's first file is due 1.5 s after the warm-up: long enough to be said.
    const speed = (first.arrivalMs - fromMs) / 1_500
    const seen: LoadProgress[] = []
    const namespace = testNamespace('load-paced')
    const report = await runLoad({ url: testRedisUrl(), namespace, day, speed, window: { fromMs, toMs: first.arrivalMs + 1 }, outDir: join(dir, 'paced-out'), onProgress: (p) => void seen.push(p) })
    expect(report.mismatches).toBe(0)
    const phases = seen.map((p) => p.phase).filter((p, i, all) => p !== all[i - 1])
    expect(phases[0]).toBe('warming-up')
    expect(phases).toContain('waiting')
    expect(phases.at(-1)).toBe('draining')
    const waiting = seen.filter((p) => p.phase === 'waiting')
    expect(waiting[0]).toMatchObject({ nextArrival: dayTime(first.arrivalMs), done: k })
    expect(waiting.every((p) => p.etaMs !== null && p.etaMs > 0 && p.etaMs <= 1_600)).toBe(true)
    expect(await keysOf(namespace)).toBe(0)
  })
})
