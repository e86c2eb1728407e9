import type { EventEnvelope } from '../events/envelope.js'
import type { CorrelationId, EventId } from '../events/ids.js'
import type { BreakerPolicy } from './breaker.js'
import { readingVersions } from './versions.js'

/** An event as a producer describes it; the bus fills in what is missing. */
export interface NewEvent<P = unknown> {
  readonly type: string
  readonly payload: P
  readonly key: string
  /** Default: the latest version of the type's contract. */
  readonly version?: number
  /** Default: a fresh UUIDv7. Publishing the same id twice is a no-op (idempotent). */
  readonly id?: EventId
  /** Default: a fresh id (a new file journey starts). */
  readonly correlationId?: CorrelationId
  readonly causationId?: EventId | ''
  /** Default: the bus's `source` option. */
  readonly source?: string
  /** Default: now. */
  readonly occurredAt?: string
  /** The producer's own version (envelope `producerVersion`). Default: the bus's `producerVersion` option. */
  readonly producerVersion?: string
  /** Which partition the event goes to (`partitionOf` of it). Default: `key`. Not stored in the event. */
  readonly partitionKey?: string
}

/** What a handler asks to emit; correlation, causation and id come from the input event. */
export interface Emit<P = unknown> {
  readonly type: string
  readonly payload: P
  /** Default: the input event's key. */
  readonly key?: string
  readonly version?: number
  /**
   * Which partition the event goes to (default: its key). Another partition than the handler's
   * goes through the source partition's outbox, in the same commit, and a relay moves it.
   */
  readonly partitionKey?: string
}

/**
 * A consumer's own state in Redis. Reads go to Redis (they see everything committed, and, for
 * the same event key, everything earlier in the batch). Writes are buffered and applied in the
 * same atomic step that acknowledges the event, so they happen exactly once per event.
 */
export interface StateAccess {
  get(name: string): Promise<string | null>
  getJson<T>(name: string): Promise<T | null>
  hget(name: string, field: string): Promise<string | null>
  hgetall(name: string): Promise<Record<string, string>>
  set(name: string, value: string): void
  setJson(name: string, value: unknown): void
  del(name: string): void
  hset(name: string, field: string, value: string): void
  hdel(name: string, field: string): void
  hincrby(name: string, field: string, by: number): void
}

export interface ConsumerContext {
  /** The consumer's name. */
  readonly consumer: string
  /** 1 on first delivery, then 2, 3... on retries, transient ones included (the consumer's own count, not Redis's). */
  readonly attempt: number
  readonly state: StateAccess
  /** Queue an event to publish atomically with this event's acknowledgement; returns its id. */
  emit<P>(event: Emit<P>): EventId
}

export interface ConsumerDefinition {
  /** Unique within a namespace; names the consumer group, inbox, state and dead-letter stream. */
  readonly name: string
  /** Event types read; each type is a stream. */
  readonly subscribes: readonly string[]
  /** Event types it may emit (for the catalog and AsyncAPI export). */
  readonly emits?: readonly string[]
  readonly description?: string
  /** True when the final state depends on the arrival order of different keys. */
  readonly dependsOnCrossKeyOrder?: boolean
  /**
   * The contract version of each type the handler is written for (default: the latest, read
   * through upcasters). A consumer that declares one reads events of that version natively,
   * older ones through upcasters, and of a dual-published event only the copy of its version
   * (see `publishDual`); `pipeline schema adoption` and `schema check` read it from the registry.
   */
  readonly reads?: Readonly<Record<string, number>>
  /**
   * A projection's snapshot interval: a rebuild saves its state every this many events read, and
   * the next rebuild starts from the latest snapshot and replays only the tail.
   */
  readonly snapshotEvery?: number
  /**
   * Its CPU per file relative to other consumers (default 1): `pipeline load --workers` deals
   * the consumers over its worker processes by it, so no one process gets all the heavy ones.
   */
  readonly cost?: number
  /** The event key that orders handling. Default: `event.key`. */
  orderingKey?(event: EventEnvelope): string
  /**
   * When the consumer pauses because its failures are not about the events (see BreakerPolicy;
   * unset fields keep DEFAULT_BREAKER). On the definition, not the runner: the threshold belongs
   * to the consumer's dependency, and the runner, `pipeline up` and the fuzz driver all take it.
   */
  readonly breaker?: Partial<BreakerPolicy>
  /**
   * Handles one event. A plain error means "retry me" (the 3rd failure dead-letters it); a
   * TransientError retries until it works; a PoisonError dead-letters it at once.
   */
  handle(event: EventEnvelope, ctx: ConsumerContext): Promise<void> | void
  /**
   * How this consumer's state reads as rows by business key, for `pipeline reconcile --state`
   * between two read models of different shapes (a new version of a projection). Default: one
   * row per string key (`name`) and hash field (`name[field]`), the value as stored.
   */
  readonly readModel?: RowMapping
  /** State kept outside Redis, for the property harness to compare. */
  inspect?(): Promise<unknown> | unknown
}

/** One value of a consumer's state: a string key, or one field of a hash key. */
export interface StateEntry {
  /** The state name the handler chose (the key without the consumer's prefix). */
  readonly name: string
  readonly field?: string
  readonly value: string
}

/** A state entry as a row of a read model; undefined leaves the entry out. */
export type RowMapping = (entry: StateEntry) => { readonly key: string; readonly value: string } | undefined

/** Declares a consumer; returns the definition unchanged, typed (with `reads`, its handler wrapped to pick those versions). */
export function defineConsumer<D extends ConsumerDefinition>(definition: D): D {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(definition.name)) {
    throw new Error(`consumer name "${definition.name}" must be 1-64 letters, digits, dots, dashes or underscores`)
  }
  if (definition.subscribes.length === 0) {
    throw new Error(`consumer "${definition.name}" subscribes to no event type`)
  }
  return definition.reads === undefined ? definition : readingVersions(definition)
}

export type { EventEnvelope, EventId, CorrelationId }
