import { encodeEvent, type EventEnvelope } from '../events/envelope.js'
import { newCorrelationId, newEventId, type CorrelationId, type EventId } from '../events/ids.js'
import type { Bus } from './bus.js'
import type { Keys } from './keys.js'
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

/** An encoded event ready to append: what the publish script takes per event. */
export interface EncodedEvent {
  readonly id: string
  readonly type: string
  readonly correlationId: string
  /** Stream-entry fields as name-value pairs (encodeEvent's). */
  readonly fields: readonly string[]
}

/**
 * Appends encoded events of ONE partition in one script call (its keys share one slot),
 * idempotently by event id; '' for an id already published. publishEvents and the outbox relay
 * both append through it, so an event relayed twice is appended once.
 */
export async function appendEncoded(bus: Bus, keys: Keys, events: readonly EncodedEvent[]): Promise<string[]> {
  // Three keys per event (lua/publish.lua), then the arguments.
  const scriptKeys: string[] = []
  const args: (string | number)[] = [PUBLISH_DEDUP_MS, INDEX_TTL_SECONDS]
  for (const e of events) {
    scriptKeys.push(keys.published(e.id), keys.stream(e.type), keys.correlation(e.correlationId))
    args.push(e.type, e.fields.length / 2, ...e.fields)
  }
  return (await retryWhileOutOfMemory(bus, () => bus.redis.esPublish(scriptKeys.length, ...scriptKeys, ...args))) as string[]
}

/**
 * Validates, encodes and appends events, pipelined in chunks, each to the partition of its
 * partition key (one script call per partition per chunk). Idempotent by event id: a re-sent
 * or retried publish appends nothing the second time. When Redis is out of memory it waits and
 * retries with a warning instead of dropping anything.
 */
export async function publishEvents(bus: Bus, events: readonly (NewEvent & { readonly dualOf?: EventId })[]): Promise<PublishedEvent[]> {
  const out: PublishedEvent[] = []
  const now = new Date().toISOString()
  const types = new Set<string>()
  for (let start = 0; start < events.length; start += CHUNK) {
    const chunk = events.slice(start, start + CHUNK)
    const envelopes: EventEnvelope[] = []
    const byPartition = new Map<number, { at: number[]; events: EncodedEvent[] }>()
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
      const partition = bus.partitionOf(event.partitionKey ?? event.key)
      let group = byPartition.get(partition)
      if (group === undefined) byPartition.set(partition, (group = { at: [], events: [] }))
      group.at.push(envelopes.length)
      group.events.push({ id: envelope.id, type: envelope.type, correlationId: envelope.correlationId, fields: encodeEvent(envelope) })
      envelopes.push(envelope)
      types.add(event.type)
    }
    const ids: string[] = []
    await Promise.all(
      [...byPartition].map(async ([partition, group]) => {
        const appended = await appendEncoded(bus, bus.partitions[partition] as Keys, group.events)
        group.at.forEach((at, i) => (ids[at] = appended[i] ?? ''))
      }),
    )
    envelopes.forEach((e, i) => {
      out.push({ id: e.id, type: e.type, key: e.key, correlationId: e.correlationId, entryId: ids[i] || null })
    })
  }
  if (types.size > 0) await bus.redis.sadd(bus.keys.streams, ...types)
  return out
}
