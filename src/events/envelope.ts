import { EventspineError } from '../errors.js'
import type { CorrelationId, EventId } from './ids.js'

/** One event as every layer sees it: a fact in the past tense, read-only. */
export interface EventEnvelope<P = unknown> {
  readonly id: EventId
  readonly type: string
  readonly version: number
  readonly source: string
  /** ISO-8601 time at which the fact happened (set by the producer). */
  readonly occurredAt: string
  /** One per file, carried from ingest to delivery. */
  readonly correlationId: CorrelationId
  /** Id of the event that caused this one; empty for events that enter from outside. */
  readonly causationId: EventId | ''
  /** The entity whose order matters (a file, a share class). */
  readonly key: string
  readonly payload: P
  /** The producer's own version (`orders-service@2.3.1`), for incident response and adoption. Optional, last on the wire. */
  readonly producerVersion?: string
  /** Set on each copy of a dual-published event (one per contract version): the id of the first copy. Optional, after producerVersion. */
  readonly dualOf?: EventId
  /** In memory only: the event as stored, when an upcaster lifted it (a consumer may read the stored version natively). */
  readonly upcastFrom?: EventEnvelope<unknown>
}

/** Largest encoded event (all fields) accepted on publish: big files must be split or refused. */
export const MAX_EVENT_BYTES = 4 * 1024 * 1024

// Field order is fixed so encoding is a single array build, and decoding can take the fast path.
/** Stream-entry field names of the envelope, in the order encodeEvent writes them. */
export const ENVELOPE_FIELDS = [
  'id',
  'type',
  'version',
  'source',
  'occurredAt',
  'correlationId',
  'causationId',
  'key',
  'payload',
] as const

export type EnvelopeField = (typeof ENVELOPE_FIELDS)[number]

/**
 * Optional fields after the envelope, in this order, each present only when set: old entries
 * (and every entry without them) keep the 18-field fast path; to the commit they are extra fields.
 */
export const OPTIONAL_FIELDS = ['producerVersion', 'dualOf'] as const

/** Flat stream-entry fields: `[name, value, name, value, ...]`, payload as JSON. */
/**
 * The hot path: entries written by encodeEvent have their fields in FIELDS order, so no record
 * of names needs building. Anything unexpected returns undefined and takes the careful path,
 * which names the problem.
 */
function decodeInOrder(f: readonly string[]): EventEnvelope | undefined {
  if ((f.length !== 18 && !optionalTail(f)) || f[0] !== 'id' || f[2] !== 'type' || f[4] !== 'version' || f[6] !== 'source' || f[8] !== 'occurredAt' ||
    f[10] !== 'correlationId' || f[12] !== 'causationId' || f[14] !== 'key' || f[16] !== 'payload') return undefined
  const version = Number(f[5])
  if (!Number.isInteger(version) || version < 1) return undefined
  let payload: unknown
  try {
    payload = JSON.parse(f[17] as string)
  } catch {
    return undefined
  }
  const event: EventEnvelope = {
    id: f[1] as EventId,
    type: f[3] as string,
    version,
    source: f[7] as string,
    occurredAt: f[9] as string,
    correlationId: f[11] as CorrelationId,
    causationId: f[13] as EventId | '',
    key: f[15] as string,
    payload,
  }
  return f.length === 18 ? event : withOptional(event, (name) => valueAfter(f, 18, name))
}

/** True when the fields after the envelope are only the optional ones, in their order. */
function optionalTail(f: readonly string[]): boolean {
  let at = 18
  for (const name of OPTIONAL_FIELDS) if (f[at] === name) at += 2
  return at === f.length && at > 18
}

function valueAfter(f: readonly string[], from: number, name: string): string | undefined {
  for (let i = from; i + 1 < f.length; i += 2) if (f[i] === name) return f[i + 1]
  return undefined
}

function withOptional(event: EventEnvelope, value: (name: (typeof OPTIONAL_FIELDS)[number]) => string | undefined): EventEnvelope {
  const producerVersion = value('producerVersion')
  const dualOf = value('dualOf')
  if (producerVersion === undefined && dualOf === undefined) return event
  return { ...event, ...(producerVersion === undefined ? {} : { producerVersion }), ...(dualOf === undefined ? {} : { dualOf: dualOf as EventId }) }
}

export function encodeEvent(event: EventEnvelope): string[] {
  // A version readers would refuse must not reach the stream: every reader would dead-letter it.
  if (!Number.isInteger(event.version) || event.version < 1) {
    throw new EventspineError('E_ENVELOPE', `event ${event.id} (${event.type}) has version ${event.version}, not a positive integer`, {
      details: { field: 'version' },
    })
  }
  let payload: string | undefined
  try {
    payload = JSON.stringify(event.payload)
  } catch (error) {
    // BigInt and cycles throw a bare TypeError; name the event instead.
    throw new EventspineError('E_ENVELOPE', `event ${event.id} (${event.type}) has a payload that cannot be JSON-encoded: ${error instanceof Error ? error.message : String(error)}`, {
      details: { field: 'payload' },
      cause: error,
    })
  }
  if (payload === undefined) {
    throw new EventspineError('E_ENVELOPE', `event ${event.id} (${event.type}) has no payload`, {
      hint: 'Pass a JSON-serialisable payload (an object, array, string, number, boolean or null).',
    })
  }
  const fields = [
    'id',
    event.id,
    'type',
    event.type,
    'version',
    String(event.version),
    'source',
    event.source,
    'occurredAt',
    event.occurredAt,
    'correlationId',
    event.correlationId,
    'causationId',
    event.causationId,
    'key',
    event.key,
    'payload',
    payload,
  ]
  if (event.producerVersion !== undefined) fields.push('producerVersion', event.producerVersion)
  if (event.dualOf !== undefined) fields.push('dualOf', event.dualOf)
  // The cap is in UTF-8 bytes (what Redis stores), not UTF-16 units: a unit is at most 3 bytes,
  // so the exact count is only needed near the cap.
  let units = 0
  for (const f of fields) units += f.length
  let size = units
  if (units * 3 > MAX_EVENT_BYTES) {
    size = 0
    for (const f of fields) size += Buffer.byteLength(f, 'utf8')
  }
  if (size > MAX_EVENT_BYTES) {
    throw new EventspineError(
      'E_EVENT_TOO_LARGE',
      `event ${event.id} (${event.type}, key ${event.key}) is ${size} bytes, over the ${MAX_EVENT_BYTES}-byte event cap`,
      {
        hint: 'Split the file into smaller files, or carry a reference to the data instead of the data.',
        details: { size, limit: MAX_EVENT_BYTES },
      },
    )
  }
  return fields
}

/**
 * Reads an event back from stream-entry fields. Throws `E_ENVELOPE` naming the missing or
 * malformed field, so a foreign entry in a stream is reported rather than mis-read.
 */
export function decodeEvent(fields: readonly string[], where = 'stream entry'): EventEnvelope {
  const fast = decodeInOrder(fields)
  if (fast) return fast
  const values: Partial<Record<EnvelopeField, string>> = {}
  for (let i = 0; i + 1 < fields.length; i += 2) {
    values[fields[i] as EnvelopeField] = fields[i + 1] as string
  }
  for (const name of ENVELOPE_FIELDS) {
    if (values[name] === undefined) {
      throw new EventspineError('E_ENVELOPE', `${where} has no "${name}" field`, {
        hint: 'Only events written by eventspine (publish or a consumer) can be read from pipeline streams.',
        details: { field: name },
      })
    }
  }
  const version = Number(values.version)
  if (!Number.isInteger(version) || version < 1) {
    throw new EventspineError('E_ENVELOPE', `${where} has version "${values.version}", not a positive integer`, {
      details: { field: 'version' },
    })
  }
  let payload: unknown
  try {
    payload = JSON.parse(values.payload as string)
  } catch (error) {
    throw new EventspineError('E_ENVELOPE', `${where} has a payload that is not valid JSON`, {
      details: { field: 'payload' },
      cause: error,
    })
  }
  return withOptional({
    id: values.id as EventId,
    type: values.type as string,
    version,
    source: values.source as string,
    occurredAt: values.occurredAt as string,
    correlationId: values.correlationId as CorrelationId,
    causationId: values.causationId as EventId | '',
    key: values.key as string,
    payload,
  }, (name) => (values as Record<string, string | undefined>)[name])
}
