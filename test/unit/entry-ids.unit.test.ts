import { describe, expect, it } from 'vitest'
import { compareEntryIds, entryTime, nextEntryId, previousEntryId } from '../../src/bus/entry-ids.js'

describe('stream entry ids', () => {
  it('order as Redis orders them, exactly up to 2^64 - 1, with a missing sequence read as 0', () => {
    expect(compareEntryIds('999-5', '1000-0')).toBeLessThan(0)
    expect(compareEntryIds('1000-10', '1000-9')).toBeGreaterThan(0)
    expect(compareEntryIds('1000-18446744073709551615', '1000-18446744073709551614')).toBeGreaterThan(0)
    expect(compareEntryIds('1000', '1000-0')).toBe(0)
    expect(compareEntryIds('1000', '1000-1')).toBeLessThan(0)
    expect(compareEntryIds('0', '0-0')).toBe(0)
  })

  it('step to their neighbours and tell when Redis added them', () => {
    expect(previousEntryId('1000-5')).toBe('1000-4')
    expect(previousEntryId('1000-0')).toBe('999-18446744073709551615')
    expect(previousEntryId('0-0')).toBe('0')
    expect(nextEntryId('1000-9')).toBe('1000-10')
    expect(nextEntryId('1000')).toBe('1000-1')
    expect(entryTime('1732540000000-3')).toBe(1732540000000)
    expect(entryTime('1732540000000')).toBe(1732540000000)
  })
})
