import { describe, expect, it } from 'vitest'
import { byShard, formatSlotRanges, keySlot, parseClusterNodes, slotCoverage } from '../../src/redis/topology.js'

const NODES = [
  'a1 127.0.0.1:7101@17101 myself,master - 0 0 1 connected 0-5460',
  'b2 127.0.0.1:7102@17102 master - 0 1700000000000 2 connected 5461-10922 [10923->-c3]',
  'c3 127.0.0.1:7103@17103 master,fail - 0 1700000000000 3 connected 10923-16383',
  'd4 127.0.0.1:7104@17104 slave a1 0 1700000000000 1 connected',
].join('\n')

describe('cluster topology', () => {
  it('reads roles, masters and stable slot ranges from CLUSTER NODES', () => {
    expect(parseClusterNodes(NODES).map((n) => [n.port, n.role, n.masterId, n.failing, formatSlotRanges(n.slots)])).toEqual([
      [7101, 'master', null, false, '0-5460'],
      [7102, 'master', null, false, '5461-10922'],
      [7103, 'master', null, true, '10923-16383'],
      [7104, 'replica', 'a1', false, ''],
    ])
  })

  it('lists each master followed by its replicas', () => {
    expect(byShard(parseClusterNodes(NODES)).map((n) => n.port)).toEqual([7101, 7104, 7102, 7103])
  })

  it('counts the slots a live master serves and names the ranges none does', () => {
    expect(slotCoverage(parseClusterNodes(NODES))).toEqual({ covered: 10923, missing: [[10923, 16383]] })
  })
})

describe('keySlot', () => {
  it('hashes the hash tag as Redis does (the issue: {a} is slot 15495)', () => {
    expect(keySlot('{a}:stream:file.received')).toBe(15495)
    expect(keySlot('{a}')).toBe(15495)
    expect(keySlot('a')).toBe(15495)
    expect(keySlot('foo')).toBe(12182) // CLUSTER KEYSLOT foo
    expect(keySlot('{user1000}.following')).toBe(keySlot('user1000'))
    expect(keySlot('{}foo')).not.toBe(keySlot('foo')) // an empty tag: the whole key is hashed
  })
})
