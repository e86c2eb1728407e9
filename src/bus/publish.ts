import { encodeEvent, type EventEnvelope } from '../events/envelope.js'
import { newCorrelationId, newEventId, type CorrelationId, type EventId } from '../events/ids.js'
import type { Bus } from './bus.js'
import { retryWhileOutOfMemory } from './pressure.js'
import { INDEX_TTL_SECONDS, PUBLISH_DEDUP_MS } from './windows.js'
import type { NewEvent } from './types.js'

export interface PublishedEvent {
  readonly id: EventId
  readonly type: string
  readonly key: string
  readonly correlationId: CorrelationId
  /** Stream entry id, or null when this id had already been published (nothing appended). */
  readonly entryId: string | null
}

const CHUNK = 500

function producerOf(bus: Bus, event: NewEvent): { producerVersion?: string } {
  const producerVersion = event.producerVersion ?? bus.producerVersion
  return producerVersion === undefined ? {} : { producerVersion }
}

/**
 * Validates, encodes and appends events, pipelined in chunks. Idempotent by event id: a re-sent
 * or retried publish appends nothing the second time. When Redis is out of memory it waits and
 * retries with a warning instead of dropping anything.
 */
export async function publishEvents(bus: Bus, events: readonly (NewEvent & { readonly dualOf?: EventId })[]): Promise<PublishedEvent[]> {
  const out: PublishedEvent[] = []
  const now = new Date().toISOString()
  const types = new Set<string>()
  for (let start = 0; start < events.length; start += CHUNK) {
    const chunk = events.slice(start, start + CHUNK)
    // Three keys per event (lua/publish.lua), then the arguments.
    const keys: string[] = []
    const args: (string | number)[] = [PUBLISH_DEDUP_MS, INDEX_TTL_SECONDS]
    const envelopes: EventEnvelope[] = []
    for (const event of chunk) {
      const version = event.version ?? bus.contracts.latestVersion(event.type) ?? 1
      bus.contracts.validate(event.type, version, event.payload, 'publish')
      const envelope: EventEnvelope = {
        id: event.id ?? newEventId(),
        type: event.type,
        version,
        source: event.source ?? bus.source,
        occurredAt: event.occurredAt ?? now,
        correlationId: event.correlationId ?? newCorrelationId(),
        causationId: event.causationId ?? '',
        key: event.key,
        payload: event.payload,
        ...producerOf(bus, event),
        ...(event.dualOf === undefined ? {} : { dualOf: event.dualOf }),
      }
      const fields = encodeEvent(envelope)
      envelopes.push(envelope)
      types.add(event.type)
      keys.push(bus.keys.published(envelope.id), bus.keys.stream(envelope.type), bus.keys.correlation(envelope.correlationId))
      args.push(envelope.type, fields.length / 2, ...fields)
    }
    const ids = (await retryWhileOutOfMemory(bus, () => bus.redis.esPublish(keys.length, ...keys, ...args))) as string[]
    envelopes.forEach((e, i) => {
      out.push({ id: e.id, type: e.type, key: e.key, correlationId: e.correlationId, entryId: ids[i] || null })
    })
  }
  if (types.size > 0) await bus.redis.sadd(bus.keys.streams, ...types)
  return out
}
