import { describe, expect, it } from 'vitest'
import { parseGate } from '../../src/sim/gates.js'
import { CHAOS_FAULTS, chaosSchedule, describeFault } from '../../src/sim/chaos/schedule.js'

const options = {
  stages: ['ingest', 'map', 'validate', 'deliver'],
  poisonTypes: ['pipeline.file.received', 'pipeline.file.mapped', 'pipeline.file.scored'],
  visibilityTimeoutMs: 2_000,
}

describe('chaos schedule', () => {
  it('is the same for a seed and differs across seeds', () => {
    expect(chaosSchedule({ ...options, seed: 7 })).toEqual(chaosSchedule({ ...options, seed: 7 }))
    const orders = new Set([1, 2, 3, 4, 5].map((seed) => chaosSchedule({ ...options, seed }).map((f) => f.kind).join(',')))
    expect(orders.size).toBeGreaterThan(1)
  })

  it('injects every kind once, in order through the day, none at the very end', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const schedule = chaosSchedule({ ...options, seed })
      expect([...schedule.map((f) => f.kind)].sort(), `seed ${seed}`).toEqual([...CHAOS_FAULTS].sort())
      const at = schedule.map((f) => f.atFraction)
      expect(at, `seed ${seed}`).toEqual([...at].sort((a, b) => a - b))
      expect(new Set(at).size).toBe(at.length)
      expect(Math.min(...at)).toBeGreaterThan(0)
      expect(Math.max(...at)).toBeLessThan(0.9)
    }
  })

  it('pauses a worker past its visibility timeout and targets only known stages and types', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const schedule = chaosSchedule({ ...options, seed })
      const stages = schedule.flatMap((f) => ('stage' in f ? [f.stage] : []))
      expect(new Set(stages).size, 'the killed and the paused stage differ').toBe(2)
      for (const fault of schedule) {
        if (fault.kind === 'worker-pause') expect(fault.holdMs).toBeGreaterThan(options.visibilityTimeoutMs + 500)
        if (fault.kind === 'worker-pause' || fault.kind === 'worker-kill') expect(options.stages).toContain(fault.stage)
        if (fault.kind === 'poison-burst') {
          expect(fault.count).toBeGreaterThanOrEqual(5)
          for (const t of fault.types) expect(options.poisonTypes).toContain(t)
        }
        expect(describeFault(fault).length).toBeGreaterThan(10)
      }
    }
  })

  it('has gates for recovery', () => {
    expect(parseGate('unrecovered=0')).toMatchObject({ metric: 'chaos.unrecovered', op: '=', value: 0 })
    expect(parseGate('recovery<30s')).toMatchObject({ metric: 'chaos.maxRecoveryMs', op: '<', value: 30_000 })
  })
})
