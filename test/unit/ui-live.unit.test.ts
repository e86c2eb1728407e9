import { afterEach, describe, expect, it, vi } from 'vitest'
import type { RuntimeSnapshot } from '../../src/pipeline/host/figures.js'
import { showLive } from '../../src/ui/live.js'
import { runtimeSnapshot, stageFigures } from '../support/figures.js'

const stage = (name: string, handled: number) => stageFigures(name, { handled })

const snap = (ingest: number, validate: number): RuntimeSnapshot =>
  runtimeSnapshot({ at: new Date().toISOString(), stages: [stage('ingest', ingest), stage('validate', validate)] })

afterEach(() => {
  vi.useRealTimers()
})

describe('plain live lines (worker logs, CI)', () => {
  it('prints a stage when its counts move, and every stage once a minute when idle', async () => {
    vi.useFakeTimers()
    let current = snap(0, 0)
    const listeners = new Set<(s: RuntimeSnapshot) => void>()
    const source = {
      snapshot: () => current,
      onSnapshot: (l: (s: RuntimeSnapshot) => void) => {
        listeners.add(l)
        return () => listeners.delete(l)
      },
    }
    const lines: string[] = []
    let stop: () => void = () => {}
    const until = new Promise<void>((resolve) => {
      stop = resolve
    })
    const live = showLive(source, { tty: false, write: (l) => lines.push(l), until })
    for (const l of listeners) l(current)
    expect(lines.filter((l) => l.includes('ingest'))).toHaveLength(1)
    // Once, first: the legend the dashboard shows, so a log tells the same truth.
    expect(lines.slice(0, 3)).toEqual([
      'figures: HANDLED: input events, not files.',
      'figures: DEAD: entries in the dead-letter streams now, as `pipeline dlq list` shows them.',
      'figures: P50/P99: stage latency in this process over the last 10-20 s; - when nothing was committed.',
    ])

    current = snap(5, 0)
    await vi.advanceTimersByTimeAsync(5_000)
    expect(lines.filter((l) => l.includes('ingest'))).toHaveLength(2)
    expect(lines.filter((l) => l.includes('validate'))).toHaveLength(1)

    // Idle: nothing more until the minute is up, then each stage once.
    await vi.advanceTimersByTimeAsync(50_000)
    expect(lines).toHaveLength(3 + 3)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(lines).toHaveLength(3 + 5)
    stop()
    const finish = await live
    finish('stopping')
    expect(lines.at(-1)).toBe('stopping')
  })
})
