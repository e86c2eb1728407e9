import { describe, expect, it } from 'vitest'
import { builtinSource, listingHost } from '../../src/pipeline/source.js'
import { spreadStages } from '../../src/sim/workers.js'

describe('spreadStages: the consumers over load --workers processes', () => {
  it('balances the fund stages by cost: two workers carry the same load, the heavy ones apart', () => {
    const consumers = builtinSource().consumers(listingHost())
    const cost = new Map(consumers.map((c) => [c.name, c.cost ?? 1]))
    const groups = spreadStages(consumers, 2)
    expect(groups.flat().sort()).toEqual(consumers.map((c) => c.name).sort())
    const loads = groups.map((g) => g.reduce((a, name) => a + (cost.get(name) ?? 1), 0))
    expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(1)
    // ingest (the heaviest) and file-journey (reads every event) are not in one process.
    expect(groups.find((g) => g.includes('ingest'))).not.toContain('file-journey')
  })

  it('keeps pipeline order inside a group, never makes an empty one, and treats an unset cost as 1', () => {
    const consumers = [{ name: 'a' }, { name: 'b', cost: 3 }, { name: 'c' }, { name: 'd' }]
    expect(spreadStages(consumers, 2)).toEqual([['b'], ['a', 'c', 'd']])
    expect(spreadStages(consumers, 9)).toHaveLength(4)
    expect(spreadStages(consumers, 1)).toEqual([['a', 'b', 'c', 'd']])
    expect(spreadStages(consumers, 0)).toEqual([['a', 'b', 'c', 'd']])
  })
})
