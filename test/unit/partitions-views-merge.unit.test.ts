import { describe, expect, it } from 'vitest'
import { mergeByEntryTime, newestFirstPage, sumCounts, sumKnown } from '../../src/bus/across.js'

const id = (x: { id: string }) => x.id

describe('merging what each partition read', () => {
  it('entry-time order across partitions: ties of one millisecond by partition, each list keeping its own order', () => {
    const p0 = [{ id: '100-0', n: 'a' }, { id: '100-7', n: 'b' }, { id: '300-0', n: 'c' }]
    const p1 = [{ id: '100-1', n: 'd' }, { id: '200-0', n: 'e' }]
    const p2 = [{ id: '50-3', n: 'f' }]
    expect(mergeByEntryTime([p0, p1, p2], id).map((x) => x.n)).toEqual(['f', 'a', 'b', 'd', 'e', 'c'])
    // One partition: its list as it is (the index's own order), whatever the ids.
    expect(mergeByEntryTime([[{ id: '9-0' }, { id: '1-0' }]], id).map(id)).toEqual(['9-0', '1-0'])
  })

  it('a newest-first page over partitions, and the cursor it stops at only when more follow', () => {
    const p0 = [{ id: '500-0' }, { id: '300-0' }, { id: '100-0' }]
    const p1 = [{ id: '400-0' }, { id: '200-0' }]
    expect(newestFirstPage([p0, p1], id, 3)).toEqual({ page: [{ id: '500-0' }, { id: '400-0' }, { id: '300-0' }], cursor: '300-0' })
    expect(newestFirstPage([p0, p1], id, 5)).toEqual({ page: [{ id: '500-0' }, { id: '400-0' }, { id: '300-0' }, { id: '200-0' }, { id: '100-0' }], cursor: null })
  })

  it('counters summed; a lag unknown in one partition is unknown in the sum', () => {
    expect(sumCounts([{ a: 1, b: 2 }, { a: 3, b: 4 }], ['a', 'b'])).toEqual({ a: 4, b: 6 })
    expect(sumKnown([1, 2, 3])).toBe(6)
    expect(sumKnown([1, null, 3])).toBeNull()
  })
})
