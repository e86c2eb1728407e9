import { describe, expect, it } from 'vitest'
import { parseOutboxTarget } from '../../src/outbox/target.js'
import { OUTBOX_COLUMNS, OUTBOX_MIGRATION } from '../../src/outbox/table.js'

describe('--outbox values', () => {
  it.each([
    ['managed', { kind: 'managed' }],
    ['postgres://app@db:5432/orders', { kind: 'url', url: 'postgres://app@db:5432/orders' }],
    ['postgresql://app:pw@db/orders', { kind: 'url', url: 'postgresql://app:pw@db/orders' }],
  ])('takes %s', (value, target) => {
    expect(parseOutboxTarget(value)).toEqual(target)
  })

  it('refuses anything else with E_OUTBOX_URL, never echoing a password', () => {
    for (const value of ['mysql://root:s3cret@db/x', 'localhost:5432', 'postgres://']) {
      let caught: unknown
      try {
        parseOutboxTarget(value)
      } catch (error) {
        caught = error
      }
      expect(caught).toMatchObject({ code: 'E_OUTBOX_URL' })
      expect(String((caught as Error).message)).not.toContain('s3cret')
    }
  })
})

describe('the outbox table as a contract', () => {
  it('creates every documented column and comments each one', () => {
    for (const column of OUTBOX_COLUMNS) {
      expect(OUTBOX_MIGRATION).toContain(`${column.name} ${column.sql}`)
      expect(OUTBOX_MIGRATION).toContain(`COMMENT ON COLUMN eventspine_outbox.${column.name} IS`)
    }
  })
})
