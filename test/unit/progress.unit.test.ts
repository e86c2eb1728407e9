import { describe, expect, it } from 'vitest'
import { formatDuration, formatProgress, progressLine } from '../../src/ui/progress/progress.js'

describe('progress line', () => {
  it('shows a bar, percent, count, rate and ETA', () => {
    expect(formatProgress('replay score', { done: 5_000, fraction: 0.25, elapsedMs: 2_000 }, 8)).toBe('replay score [##------]  25% 5000 events 2.5k/s ETA 6s')
    expect(formatProgress('r', { done: 10, fraction: 1, elapsedMs: 1_000 }, 4)).toBe('r [####] 100% 10 events 10/s ETA done')
  })

  it('formats durations for people', () => {
    expect([formatDuration(4.4), formatDuration(75), formatDuration(7_380)]).toEqual(['4s', '1m15s', '2h03m'])
  })

  it('draws only on a TTY, at most every interval, and clears itself', () => {
    const written: string[] = []
    let t = 0
    const tty = { isTTY: true, columns: 200, write: (s: string) => void written.push(s) } as unknown as NodeJS.WriteStream
    const line = progressLine(tty, 'x', { intervalMs: 100, now: () => t })
    t = 100
    line.update({ done: 1, fraction: 0.1, elapsedMs: 100 })
    t = 150
    line.update({ done: 2, fraction: 0.2, elapsedMs: 150 })
    t = 300
    line.update({ done: 3, fraction: 0.3, elapsedMs: 300 })
    line.done()
    expect(written).toHaveLength(3)
    expect(written[2]).toBe('\r\x1b[K')
    const pipe = { isTTY: false, write: (s: string) => void written.push(s) } as unknown as NodeJS.WriteStream
    progressLine(pipe, 'x').update({ done: 1, fraction: 0.5, elapsedMs: 1 })
    expect(written).toHaveLength(3)
  })
})
