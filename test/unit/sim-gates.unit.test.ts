import { describe, expect, it } from 'vitest'
import { hasCode } from '../../src/errors.js'
import { evaluateGates, parseGate } from '../../src/sim/gates.js'
import { createProgress } from '../../src/sim/progress.js'
import { parseSpeed } from '../../src/sim/summary.js'

const report = { latencyMs: { p50: 4, p95: 9, p99: 18, max: 40 }, mismatches: 0, deadLetters: 2, retries: 0, eventsPerSecond: 12_000, elapsedMs: 8_000, outcomes: { missing: 0 } }

describe('load gates', () => {
  it('parses metric, operator, value and unit', () => {
    expect(parseGate('p99<50ms')).toMatchObject({ metric: 'latencyMs.p99', op: '<', value: 50 })
    expect(parseGate(' p95 <= 1.5s ')).toMatchObject({ metric: 'latencyMs.p95', op: '<=', value: 1500 })
    expect(parseGate('mismatches=0')).toMatchObject({ metric: 'mismatches', op: '=', value: 0 })
    expect(parseGate('eventsPerSecond>=10000')).toMatchObject({ metric: 'eventsPerSecond', op: '>=', value: 10_000 })
    expect(parseGate('deadLetters==0')).toMatchObject({ metric: 'deadLetters', op: '=' })
  })

  it('refuses what it cannot read, with a code', () => {
    for (const bad of ['p99 50ms', 'latency50', 'nonsense<3', 'mismatches<2ms', 'p99<fast']) {
      let error: unknown
      try {
        parseGate(bad)
      } catch (e) {
        error = e
      }
      expect(hasCode(error, 'E_GATE'), bad).toBe(true)
    }
  })

  it('checks each gate against the report', () => {
    const results = evaluateGates(report, ['p99<20ms', 'p99<10ms', 'mismatches=0', 'deadLetters=0', 'eventsPerSecond>5000', 'elapsed<=8s'].map(parseGate))
    expect(results.map((r) => [r.text, r.ok, r.actual])).toEqual([
      ['p99<20ms', true, 18],
      ['p99<10ms', false, 18],
      ['mismatches=0', true, 0],
      ['deadLetters=0', false, 2],
      ['eventsPerSecond>5000', true, 12_000],
      ['elapsed<=8s', true, 8_000],
    ])
  })
})

describe('speed and progress', () => {
  it('reads max and multiples of real time', () => {
    expect(parseSpeed('max')).toBe('max')
    expect(parseSpeed('60x')).toBe(60)
    expect(parseSpeed('0.5x')).toBe(0.5)
    expect(() => parseSpeed('fast')).toThrow(/not a speed/)
    expect(() => parseSpeed('0x')).toThrow(/not a speed/)
  })

  it('prints plain lines every 10% when stderr is not a TTY', () => {
    const out: string[] = []
    let t = 0
    const stream = { isTTY: false, write: (s: string) => out.push(s) } as unknown as NodeJS.WriteStream
    const bar = createProgress('load', stream, () => t)
    for (let done = 0; done <= 100; done += 5) {
      t += 100
      bar.update({ done, total: 100, rate: 1234, rateUnit: 'events/s' })
    }
    bar.finish('done')
    expect(out).toHaveLength(12)
    expect(out[5]).toMatch(/^load \[#{14}-{14}\]  50%  50\/100  1,234 events\/s  ETA \d+s\n$/)
    expect(out.every((line) => !line.includes('\r'))).toBe(true)
  })
})
