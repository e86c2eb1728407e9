import { describe, expect, it } from 'vitest'
import { dayTime, loadEtaMs, loadNote, type LoadProgress } from '../../src/sim/load-progress.js'
import { createProgress } from '../../src/sim/progress.js'
import { formatProgress } from '../../src/ui/progress/progress.js'

const at = (p: Partial<LoadProgress>): LoadProgress => ({ done: 0, total: 300, eventsPerSecond: 0, phase: 'publishing', etaMs: null, nextArrival: null, waitMs: null, ...p })

function tty(): { stream: NodeJS.WriteStream; out: string[] } {
  const out: string[] = []
  return { stream: { isTTY: true, write: (s: string) => out.push(s) } as unknown as NodeJS.WriteStream, out }
}

describe('load progress: what it is doing, and a real ETA', () => {
  it('a paced run waiting for the first arrival says so, with the time left on the schedule, not "0% ETA 0s"', () => {
    // --speed 600x, first file at 05:00 day time: 30 s of schedule before anything happens.
    const eta = loadEtaMs({ now: 1_000, phaseStart: 1_000, endedAtPhaseStart: 0, ended: 0, total: 300, lastDueAt: 1_000 + (22 * 3_600_000) / 600 })
    expect(eta).toBe(132_000)
    const p = at({ phase: 'waiting', etaMs: eta, nextArrival: dayTime(5 * 3_600_000), waitMs: 29_400 })
    expect(loadNote(p, 600)).toBe('waiting for the next arrival (05:00:00 day time, due in 30s at 600x)')
    const { stream, out } = tty()
    createProgress('load', stream, () => 1_000).update({ done: 0, total: 300, etaMs: p.etaMs, note: loadNote(p, 600) })
    expect(out.join('')).toContain('  0%  0/300  ETA 132s  waiting for the next arrival (05:00:00 day time, due in 30s at 600x)')
  })

  it('at max speed, and draining, the ETA comes from the rate since the phase began; unknown before the first file ends', () => {
    expect(loadEtaMs({ now: 5_000, phaseStart: 1_000, endedAtPhaseStart: 0, ended: 0, total: 100, lastDueAt: null })).toBeNull()
    expect(loadEtaMs({ now: 5_000, phaseStart: 1_000, endedAtPhaseStart: 20, ended: 60, total: 100, lastDueAt: null })).toBe(4_000)
    expect(loadNote(at({ phase: 'warming-up' }), 600)).toBe('warming up: files before the window, at max speed')
    expect(loadNote(at({ phase: 'draining' }), 'max')).toBe('all published; waiting for the last files to end')
    expect(loadNote(at({}), 'max')).toBe('publishing at max speed')
    const { stream, out } = tty()
    createProgress('load', stream, () => 1_000).update({ done: 0, total: 10, etaMs: null })
    expect(out.join('')).toContain('ETA -')
  })

  it('a bar with nothing done and no better estimate shows ETA -, never 0s', () => {
    const { stream, out } = tty()
    createProgress('load', stream, () => 1_000).update({ done: 0, total: 10 })
    expect(out.join('')).toContain('ETA -')
    expect(formatProgress('replay', { done: 0, fraction: 0, elapsedMs: 5_000 }, 4)).toBe('replay [----]   0% 0 events 0/s ETA -')
  })
})
