import { describe, expect, it } from 'vitest'
import { faultsLabel, orderingCause } from '../../src/check/properties.js'
import type { CheckEvent } from '../../src/check/types.js'

const event = (i: number, key: string, type = 'account.credited', accountId = 'acc-000') => ({ id: `e${i}`, type, key, payload: { accountId } }) as unknown as CheckEvent
const commits = (...ids: number[]) => ids.map((i) => ({ id: `e${i}`, streamKey: 's' }))

describe('labels say what happened', () => {
  it('a schedule with nothing injected says so; otherwise it names only what was injected', () => {
    expect(faultsLabel('on the schedule', new Map())).toBe('on the schedule, no fault injected')
    expect(faultsLabel('on the schedule', new Map([['re-sent event', 1], ['injected failure', 2]]))).toBe('on the schedule, with 1 re-sent event, 2 injected failures')
    expect(faultsLabel('x', new Map([['redelivery', 2], ['crash before commit', 2]]))).toBe('x, with 2 redeliveries, 2 crashes before commit')
  })

  it('the cause of an order difference: cross-key order only when keys differ', () => {
    const events = [event(0, 'k1'), event(1, 'k2')]
    const [cause] = orderingCause(events, commits(1, 0), (e) => e.key)
    expect(cause).toBe('#1 took effect before #0: events of different keys (k1, k2) whose order matters; the consumer does not declare dependsOnCrossKeyOrder')
  })

  it("one key split by the consumer's own orderingKey", () => {
    const events = [event(0, 'k1', 'account.credited', 'acc-001'), event(1, 'k1', 'account.credited', 'acc-002')]
    const causes = orderingCause(events, commits(1, 0), (e) => (e.payload as { accountId: string }).accountId)
    expect(causes).toEqual(["#1 took effect before #0: they share key k1, but the consumer's own orderingKey puts them in different queues (acc-001, acc-002), handled in parallel"])
  })

  it('one key on two streams, and no reordering at all', () => {
    const events = [event(0, 'k1', 'a.x'), event(1, 'k1', 'a.y')]
    expect(orderingCause(events, commits(1, 0), (e) => e.key)[0]).toContain('share ordering key k1 but come on different streams (a.x, a.y)')
    expect(orderingCause(events, commits(0, 1, 0), (e) => e.key)[0]).toMatch(/^no two events took effect out of publish order/)
  })
})
