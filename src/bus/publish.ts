import { encodeEvent, type EventEnvelope } from '../events/envelope.js'
import { newCorrelationId, newEventId, type CorrelationId, type EventId } from '../events/ids.js'
import { EventspineError } from '../errors.js'
import type { Cluster } from 'ioredis'
import { isCluster } from '../redis/nodes.js'
import { keySlot } from '../redis/topology.js'
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
  const appended = (await retryWhileOutOfMemory(bus, () => bus.redis.esPublish(scriptKeys.length, ...scriptKeys, ...args))) as string[]
  if (scriptKeys[0] !== undefined) await waitForReplica(bus, scriptKeys[0])
  return appended
}

/** How long a publish waits for a replica to confirm it before refusing the acknowledgement. */
export const REPLICA_ACK_TIMEOUT_MS = 5_000

/**
 * On a Redis Cluster whose master of this slot has a replica connected, the publish returns only
 * once one replica has the write: replication is asynchronous, and a master killed right after
 * acknowledging hands its slots to a replica without the write (test/int/cluster-faults-failover:
 * 3,100 of 3,200 acknowledged events were gone without this). WAIT counts the writes of its
 * connection, so it goes in a pipeline whose one keyed command (a read of the same slot) sends it
 * to the node that took the write: ioredis sends a keyless command in a cluster pipeline to the
 * pipeline's slot. Whether that master has a replica is asked of it (INFO's connected_slaves,
 * kept for a few seconds): CLUSTER SLOTS, and so ioredis's slot table, leaves out a replica that
 * has not yet reported a replication offset. Standalone Redis and a master without a replica
 * skip the wait (nothing to wait for). No replica in time: E_PUBLISH_NOT_REPLICATED, and the
 * producer re-sends (idempotent by id).
 *
 * Commits do not wait. A replica's stream is a prefix of its master's, so a commit lost in a
 * failover is lost whole (its emits, state, inbox mark and XACK together): its input is still
 * pending, is delivered again, and re-applied under the same derived ids. The relay publishes
 * through here, so it acknowledges an outbox entry only once a replica has the relayed event.
 */
async function waitForReplica(bus: Bus, key: string): Promise<void> {
  const client = bus.redis
  if (!isCluster(client)) return
  const slot = keySlot(key)
  if ((await replicasOf(client, key)) < 1) return
  const replies = (await client.pipeline().exists(key).call('WAIT', 1, REPLICA_ACK_TIMEOUT_MS).exec()) ?? []
  const [error, confirmed] = replies[1] ?? [new Error('no reply to WAIT'), 0]
  // A redirected read means the slot moved since the write: that WAIT was on another node.
  const failure = error ?? replies[0]?.[0]
  if (failure || Number(confirmed) < 1) {
    const why = failure ? `: ${failure.message}` : ` within ${REPLICA_ACK_TIMEOUT_MS} ms`
    throw new EventspineError('E_PUBLISH_NOT_REPLICATED', `no replica confirmed the publish to slot ${slot}${why}`, {
      hint: 'The events are on the master but would be lost if it died before a replica caught up. Publish them again: publish is idempotent by event id.',
    })
  }
}

/** How long a master's replica count is taken as known. */
const REPLICAS_KNOWN_MS = 2_000
const replicaCounts = new WeakMap<Cluster, Map<string, { count: number; atMs: number }>>()

/** Replicas connected to the master of `key`'s slot (asked of it in a pipeline routed by the key). */
async function replicasOf(client: Cluster, key: string): Promise<number> {
  const node = client.slots[keySlot(key)]?.[0] ?? ''
  let known = replicaCounts.get(client)
  if (known === undefined) replicaCounts.set(client, (known = new Map()))
  const cached = known.get(node)
  if (cached !== undefined && Date.now() - cached.atMs < REPLICAS_KNOWN_MS) return cached.count
  const replies = (await client.pipeline().exists(key).info('replication').exec()) ?? []
  const count = Number(/^connected_slaves:(\d+)/m.exec(String(replies[1]?.[1] ?? ''))?.[1] ?? 0)
  known.set(node, { count, atMs: Date.now() })
  return count
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
