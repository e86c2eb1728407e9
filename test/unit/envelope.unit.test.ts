import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MAX_EVENT_BYTES, decodeEvent, encodeEvent, type EventEnvelope } from '../../src/events/index.js'
import type { CorrelationId, EventId } from '../../src/events/ids.js'
import { thrown } from '../support/errors.js'

// Reproduce a failure with FC_SEED=<seed printed by fast-check> npx vitest run <this file>.
const seed = process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED)
const params = seed === undefined ? {} : { seed }

const unicode = fc.string({ unit: 'grapheme', maxLength: 40 })
const uuid = fc.uuid({ version: 7 })

const envelopeArb: fc.Arbitrary<EventEnvelope> = fc.record({
  id: uuid.map((u) => u as EventId),
  type: fc.stringMatching(/^[a-z][a-z0-9.]{0,30}$/),
  version: fc.integer({ min: 1, max: 1_000_000 }),
  source: unicode,
  occurredAt: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  correlationId: uuid.map((u) => u as CorrelationId),
  causationId: fc.oneof(fc.constant('' as const), uuid.map((u) => u as EventId)),
  key: unicode,
  payload: fc.jsonValue(),
})

// JSON has no -0 (it reads back as 0); every other JSON value must survive unchanged.
function withoutNegativeZero(value: unknown): unknown {
  if (Object.is(value, -0)) return 0
  if (Array.isArray(value)) return value.map(withoutNegativeZero)
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutNegativeZero(v)]))
  }
  return value
}

function sample(overrides: Partial<EventEnvelope> = {}): EventEnvelope {
  return {
    id: '0190f5a0-0000-7000-8000-000000000001' as EventId,
    type: 'pipeline.file.mapped',
    version: 1,
    source: 'map',
    occurredAt: '2026-11-25T12:00:00.000Z',
    correlationId: '0190f5a0-0000-7000-8000-0000000000c0' as CorrelationId,
    causationId: '',
    key: 'file-1',
    payload: { records: [] },
    ...overrides,
  }
}

/** Fields of `sample()` with one field removed or replaced. */
function fieldsWith(name: string, value: string | undefined): string[] {
  const fields = encodeEvent(sample())
  const at = fields.indexOf(name)
  if (value === undefined) fields.splice(at, 2)
  else fields[at + 1] = value
  return fields
}

describe('envelope encoding', () => {
  it('round-trips any event with any JSON payload and unicode keys and sources', () => {
    fc.assert(
      fc.property(envelopeArb, (event) => {
        const fields = encodeEvent(event)
        expect(fields.every((f) => typeof f === 'string')).toBe(true)
        expect(decodeEvent(fields)).toEqual({ ...event, payload: withoutNegativeZero(event.payload) })
      }),
      params,
    )
  })

  it('reads fields in any order (a foreign writer may not keep ours)', () => {
    fc.assert(
      fc.property(envelopeArb, fc.infiniteStream(fc.nat()), (event, picks) => {
        const pairs: string[][] = []
        const fields = encodeEvent(event)
        for (let i = 0; i < fields.length; i += 2) pairs.push(fields.slice(i, i + 2))
        const shuffled = pairs
          .map((pair) => ({ pair, rank: picks.next().value as number }))
          .sort((a, b) => a.rank - b.rank)
          .flatMap(({ pair }) => pair)
        expect(decodeEvent(shuffled)).toEqual({ ...event, payload: withoutNegativeZero(event.payload) })
      }),
      params,
    )
  })

  it('names a missing field, and where the entry came from', () => {
    for (const name of ['id', 'type', 'version', 'key', 'payload']) {
      const error = thrown(() => decodeEvent(fieldsWith(name, undefined), 'stream pipeline:s entry 1-0'))
      expect(error.code).toBe('E_ENVELOPE')
      expect(error.message).toBe(`stream pipeline:s entry 1-0 has no "${name}" field`)
      expect(error.details?.field).toBe(name)
    }
  })

  it('refuses a payload that is not JSON and a version that is not a positive integer', () => {
    const json = thrown(() => decodeEvent(fieldsWith('payload', '{"records": [')))
    expect(json.code).toBe('E_ENVELOPE')
    expect(json.message).toMatch(/payload that is not valid JSON/)
    expect(json.cause).toBeInstanceOf(SyntaxError)
    for (const version of ['0', '-1', '1.5', 'two', '']) {
      const error = thrown(() => decodeEvent(fieldsWith('version', version)))
      expect(error.code).toBe('E_ENVELOPE')
      expect(error.details?.field).toBe('version')
    }
  })

  it('refuses on publish what readers would refuse: bad versions, payloads that are not JSON', () => {
    expect(thrown(() => encodeEvent(sample({ version: 0 }))).details?.field).toBe('version')
    expect(thrown(() => encodeEvent(sample({ version: 1.5 }))).code).toBe('E_ENVELOPE')
    expect(thrown(() => encodeEvent(sample({ payload: undefined }))).message).toMatch(/has no payload/)
    expect(thrown(() => encodeEvent(sample({ payload: { n: 10n } }))).message).toMatch(/cannot be JSON-encoded/)
  })

  it('caps the encoded size in UTF-8 bytes', () => {
    const overhead = encodeEvent(sample({ payload: '' })).join('').length
    const atCap = 'a'.repeat(MAX_EVENT_BYTES - overhead)
    expect(() => encodeEvent(sample({ payload: atCap }))).not.toThrow()
    const over = thrown(() => encodeEvent(sample({ payload: `${atCap}a` })))
    expect(over.code).toBe('E_EVENT_TOO_LARGE')
    expect(over.message).toContain('file-1')
    expect(over.details).toEqual({ size: MAX_EVENT_BYTES + 1, limit: MAX_EVENT_BYTES })
    // Under the cap in UTF-16 units, over it in bytes: what Redis stores is what counts.
    const euros = '€'.repeat(Math.ceil(MAX_EVENT_BYTES / 3) + 1)
    expect(euros.length).toBeLessThan(MAX_EVENT_BYTES)
    expect(thrown(() => encodeEvent(sample({ payload: euros }))).code).toBe('E_EVENT_TOO_LARGE')
  })
})
