import { hash } from 'node:crypto'
import { v7 as uuidv7 } from 'uuid'

export type EventId = string & { readonly __brand: 'EventId' }
export type CorrelationId = string & { readonly __brand: 'CorrelationId' }

/** A fresh time-sortable id (UUIDv7). */
export function newEventId(): EventId {
  return uuidv7() as EventId
}

export function newCorrelationId(): CorrelationId {
  return uuidv7() as CorrelationId
}

/** Milliseconds since the epoch encoded in a UUIDv7. */
export function eventIdTime(id: string): number {
  return Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16)
}

/**
 * A UUIDv7-shaped id derived from a parent id and a salt: the same inputs always give the same
 * id, so a handler retried after a crash emits the same event ids and the inbox catches them.
 * It keeps the parent's timestamp, so derived ids still sort by time.
 */
export function deriveEventId(parent: string, salt: string): EventId {
  // One-shot hash(): no Hash object per emitted event on the runtime's hot path.
  const digest = hash('sha256', `${parent}\0${salt}`, 'hex')
  const time = parent.slice(0, 8) + parent.slice(9, 13)
  const variant = ((Number.parseInt(digest[16] as string, 16) & 0x3) | 0x8).toString(16)
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${digest.slice(0, 3)}-${variant}${digest.slice(3, 6)}-${digest.slice(6, 18)}` as EventId
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export function isEventId(value: string): value is EventId {
  return UUID.test(value)
}
