import { describe, expect, it } from 'vitest'
import { deriveEventId, eventIdTime, isEventId, newEventId } from '../../src/events/ids.js'

describe('event ids', () => {
  it('are UUIDv7 and carry their creation time', () => {
    const before = Date.now()
    const id = newEventId()
    expect(isEventId(id)).toBe(true)
    expect(id[14]).toBe('7')
    expect(eventIdTime(id)).toBeGreaterThanOrEqual(before)
    expect(eventIdTime(id)).toBeLessThanOrEqual(Date.now())
  })

  it('derive the same id from the same parent and salt, and keep the parent time', () => {
    const parent = newEventId()
    const a = deriveEventId(parent, 'map:0')
    expect(deriveEventId(parent, 'map:0')).toBe(a)
    expect(deriveEventId(parent, 'map:1')).not.toBe(a)
    expect(isEventId(a)).toBe(true)
    expect(a[14]).toBe('7')
    expect('89ab').toContain(a[19])
    expect(eventIdTime(a)).toBe(eventIdTime(parent))
  })
})
