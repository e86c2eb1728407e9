import { describe, expect, it } from 'vitest'
import { parseIndexRow } from '../../src/bus/index-rows.js'

describe('correlation index rows', () => {
  it('name an event by its type, a dead letter by its consumer, each with its entry id', () => {
    expect(parseIndexRow('pipeline.file.received 1732540000000-0')).toEqual({ kind: 'event', type: 'pipeline.file.received', entryId: '1732540000000-0' })
    expect(parseIndexRow('dlq:map 1732540000001-3')).toEqual({ kind: 'dead-letter', consumer: 'map', entryId: '1732540000001-3' })
  })
})
