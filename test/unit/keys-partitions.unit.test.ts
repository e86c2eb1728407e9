import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { keysFor, partitionKeys, partitionOf } from '../../src/bus/keys.js'

describe('partition keys', () => {
  it('one partition keeps the layout from before partitions: every key under {ns}', () => {
    const keys = keysFor('pipeline')
    expect(keys.stream('file.received')).toBe('{pipeline}:stream:file.received')
    expect(keys.lease('ingest')).toBe('{pipeline}:lease:ingest')
    expect(keys.streams).toBe('{pipeline}:streams')
    expect(keys.prefix).toBe(keys.globalPrefix)
  })

  it('partition p of several has its own tag; the registry stays global', () => {
    const [p0, p1] = partitionKeys('fund', 4)
    expect(p0?.stream('a')).toBe('{fund:0}:stream:a')
    expect(p1?.inbox('ingest')).toBe('{fund:1}:inbox:ingest')
    expect(p1?.outbox).toBe('{fund:1}:outbox')
    for (const keys of [p0, p1]) {
      expect(keys?.consumers).toBe('{fund}:consumers')
      expect(keys?.runtime).toBe('{fund}:runtime')
      expect(keys?.partitions).toBe('{fund}:partitions')
      expect(keys?.chaosHold('map')).toBe('{fund}:chaos:hold:map')
    }
  })

  it('refuses a partition outside the count', () => {
    expect(() => keysFor('fund', { partition: 4, count: 4 })).toThrow(/partition 4 is not valid/)
    expect(() => keysFor('fund', { count: 0 })).toThrow(/partition count 0/)
  })

  it('partitionOf is stable (a wire contract) and in range', () => {
    // Pinned values: changing the hash would split one key's events over two partitions.
    // FNV-1a('a') = 0xe40c292c, the published test vector.
    expect(partitionOf('a', 1000)).toBe(0xe40c292c % 1000)
    expect([partitionOf('NAV-2026-001', 4), partitionOf('', 4), partitionOf('LU0123456789', 16), partitionOf('é', 7)]).toEqual([1, 1, 5, 2])
    expect(partitionOf('anything', 1)).toBe(0)
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 1, max: 256 }), (key, count) => {
        const p = partitionOf(key, count)
        return Number.isInteger(p) && p >= 0 && p < count && p === partitionOf(key, count)
      }),
    )
  })
})

describe('lease tokens', () => {
  it('name the instance holding the lease', async () => {
    const { leaseHolder, leaseToken } = await import('../../src/bus/lease.js')
    const token = leaseToken('validate@host:42:ab12cd')
    expect(leaseHolder(token)).toBe('validate@host:42:ab12cd')
    expect(leaseToken('x')).not.toBe(leaseToken('x'))
    expect(leaseHolder('0123abcd')).toBe('')
  })
})
