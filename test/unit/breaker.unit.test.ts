import { describe, expect, it } from 'vitest'
import { DEFAULT_BREAKER, FailureCount, probeDelay } from '../../src/bus/breaker.js'
import { PoisonError, TransientError, failureKind } from '../../src/bus/failures.js'
import { DEFAULT_RETRY, decideFailure } from '../../src/bus/retry.js'
import { asTransientIfOutputFault } from '../../src/pipeline/deliver.js'

const policy = { ...DEFAULT_BREAKER, consecutiveFailures: 3, minimumEvents: 4, failureRate: 0.5, windowMs: 1_000 }

describe('failure kinds and the decision', () => {
  it('tells the kinds by code; poison dead-letters at once, plain after max attempts, transient never', () => {
    expect([new TransientError('x'), new PoisonError('x'), new Error('x'), { code: 'E_TRANSIENT' }].map(failureKind)).toEqual(['transient', 'poison', 'plain', 'transient'])
    const random = () => 0.5
    expect(decideFailure(DEFAULT_RETRY, { attempts: 1, deadLettered: true, kind: 'poison' }, random)).toEqual({ kind: 'dead-letter' })
    expect(decideFailure(DEFAULT_RETRY, { attempts: 2, deadLettered: false, kind: 'plain' }, random).kind).toBe('retry')
    expect(decideFailure(DEFAULT_RETRY, { attempts: 3, deadLettered: false, kind: 'plain' }, random)).toEqual({ kind: 'dead-letter' })
    expect(decideFailure(DEFAULT_RETRY, { attempts: 3, deadLettered: false, kind: 'transient', transientFailures: 50 }, random)).toEqual({ kind: 'retry', delayMs: 3_750 })
  })

  it("deliver's output faults are transient; other errors keep their kind", () => {
    for (const code of ['ENOSPC', 'EACCES', 'EPERM', 'ENOENT', 'ENOTDIR', 'EEXIST']) {
      expect(failureKind(asTransientIfOutputFault(Object.assign(new Error(code), { code }), 'write')), code).toBe('transient')
    }
    expect(failureKind(asTransientIfOutputFault(new TypeError('bug'), 'write'))).toBe('plain')
  })
})

describe('the failure count behind the breaker', () => {
  it('opens on different events failing in a row; a failed event that commits starts the row again, other commits do not', () => {
    const count = new FailureCount({ ...policy, minimumEvents: 100 })
    expect(count.failed('a', 0)).toBe(false)
    expect(count.failed('a', 1)).toBe(false) // the same event again is not a different one
    count.committed(1, 2, false) // a join's first half: says nothing about the dependency
    expect(count.failed('b', 3)).toBe(false)
    count.committed(1, 4, true) // a retried event went through: the world is right again
    expect(count.failed('c', 5)).toBe(false)
    expect(count.failed('d', 6)).toBe(false)
    expect(count.failed('e', 7)).toBe(true)
  })

  it('opens on a failure rate over the window once enough events were seen; old failures drop out', () => {
    const count = new FailureCount({ ...policy, consecutiveFailures: 100 })
    count.committed(2, 0, true)
    expect(count.failed('a', 10)).toBe(false)
    expect(count.failed('b', 20)).toBe(true) // 2 of 4
    const later = new FailureCount({ ...policy, consecutiveFailures: 100 })
    later.failed('a', 0)
    later.failed('b', 0)
    later.committed(2, 1_500, true)
    expect(later.failed('c', 1_600)).toBe(false) // a and b are outside the window: 1 of 3 seen
  })

  it('probes later after each failed probe, up to the maximum', () => {
    const delays = [0, 1, 2, 3, 10].map((probes) => probeDelay({ ...DEFAULT_BREAKER, probeBaseMs: 1_000, probeMaxMs: 5_000 }, probes, () => 1))
    expect(delays).toEqual([1_000, 2_000, 4_000, 5_000, 5_000])
  })
})
