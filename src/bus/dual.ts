import { deriveEventId, newCorrelationId, newEventId } from '../events/ids.js'
import type { Bus } from './bus.js'
import { publishEvents, type PublishedEvent } from './publish.js'
import type { NewEvent } from './types.js'

/** One version of a dual-published event. */
export interface VersionCopy {
  readonly version: number
  readonly payload: unknown
}

/**
 * Dual publishing during a contract migration: one fact appended once per version, oldest first,
 * in one step. Every copy carries `dualOf` (the first copy's id; the others' ids derive from it),
 * so a consumer that declares `reads` takes the copy of its version and skips the others, and one
 * that does not takes the copy of the latest version. Stop when `pipeline schema adoption` says
 * no registered consumer reads the old version any more.
 */
export function publishDual(bus: Bus, event: Omit<NewEvent, 'version' | 'payload'>, copies: readonly VersionCopy[]): Promise<PublishedEvent[]> {
  const sorted = [...copies].sort((a, b) => a.version - b.version)
  const first = event.id ?? newEventId()
  const correlationId = event.correlationId ?? newCorrelationId()
  const occurredAt = event.occurredAt ?? new Date().toISOString()
  return publishEvents(
    bus,
    sorted.map((c, i) => ({ ...event, correlationId, occurredAt, version: c.version, payload: c.payload, id: i === 0 ? first : deriveEventId(first, `v${c.version}`), dualOf: first })),
  )
}
