import { encodeEvent, type EventEnvelope } from '../events/envelope.js'
import { deriveEventId, type EventId } from '../events/ids.js'
import type { Bus } from './bus.js'
import type { Keys } from './keys.js'
import type { ContractChecker } from './contracts.js'
import type { ConsumerContext, Emit, StateAccess } from './types.js'

/** One event to append, with the correlation index that lists it. */
export interface EmitEffect {
  readonly kind: 'emit'
  readonly stream: string
  /** The correlation index key (the input's correlation: the same for every emit of one event). */
  readonly index: string
  readonly type: string
  /** Stream-entry fields as name-value pairs: the envelope first, as encodeEvent writes it, then any extra fields. */
  readonly fields: string[]
  /**
   * Set when the event belongs to another partition: `stream` is then the source partition's
   * outbox, the fields end with OUTBOX_TARGET, and the commit indexes nothing (the relay does,
   * in the target partition).
   */
  readonly target?: number
}

/** The outbox entry's field naming the partition its event goes to. */
export const OUTBOX_TARGET = 'outboxPartition'

/** One write to the consumer's state. */
export type WriteEffect =
  | { readonly kind: 'set'; readonly key: string; readonly value: string }
  | { readonly kind: 'del'; readonly key: string }
  | { readonly kind: 'hset'; readonly key: string; readonly field: string; readonly value: string }
  | { readonly kind: 'hdel'; readonly key: string; readonly field: string }
  | { readonly kind: 'hincrby'; readonly key: string; readonly field: string; readonly by: number }

/** What one handled event asks for; applied by the commit script (effects.ts packs it) or not at all. */
export interface Effects {
  readonly emits: EmitEffect[]
  readonly writes: WriteEffect[]
}

/**
 * Where a context's reads go: Redis in the runtime (an ioredis client is one as it is, so the hot
 * path gains no wrapper), an in-memory map in golden tests (src/check/golden), so both run this
 * one context.
 */
export interface StateReader {
  get(key: string): Promise<string | null>
  hget(key: string, field: string): Promise<string | null>
  hgetall(key: string): Promise<Record<string, string>>
}

/** What every context of one runner shares. */
export interface ContextScope {
  readonly consumer: string
  readonly source: string
  readonly keys: Keys
  /** Committed state: a handler's reads never see its own buffered writes. */
  readonly reader: StateReader
  readonly contracts: ContractChecker
  /** Written into every emitted event (envelope `producerVersion`), when set. */
  readonly producerVersion?: string | undefined
  /** The partition of an emit's partition key; unset: every emit stays in `keys.partition`. */
  readonly partitionOf?: (partitionKey: string) => number
}

/**
 * The scope of a consumer's handlers on a bus or a partition view of it: the runner, replay and
 * `dlq replay` all build it here, so from each of them an emit whose key belongs to another
 * partition goes through the outbox. `keys`: where state names lead (a rebuild's shadow keys).
 */
export function handlerScope(bus: Pick<Bus, 'keys' | 'redis' | 'contracts' | 'producerVersion' | 'partitionOf'>, consumer: string, keys: Keys = bus.keys): ContextScope {
  return { consumer, source: consumer, keys, reader: bus.redis, contracts: bus.contracts, producerVersion: bus.producerVersion, partitionOf: bus.partitionOf }
}

/**
 * The context a handler sees: a class so a busy runner builds one small object per event, not a
 * dozen closures. Writes are buffered into `effects`; reads go to the scope's reader (Redis, or
 * a map in golden tests) and see committed state only. Emitted ids derive from the input id,
 * the consumer and the emit's position, so a retry emits the same ids and a replayed commit is
 * caught by the inbox.
 */
export class HandlerContext implements ConsumerContext, StateAccess {
  /** State this handler read: `key` (whole) or `key\0field`; see conflicts.ts. */
  readonly reads: string[] = []
  /** When the handler ran: the occurredAt of everything it emits. */
  private handledAt: string | undefined

  constructor(
    private readonly scope: ContextScope,
    private readonly event: EventEnvelope,
    readonly attempt: number,
    readonly effects: Effects = { emits: [], writes: [] },
  ) {}

  get consumer(): string {
    return this.scope.consumer
  }

  get state(): StateAccess {
    return this
  }

  private key(name: string): string {
    return this.scope.keys.state(this.scope.consumer, name)
  }

  get(name: string): Promise<string | null> {
    const key = this.key(name)
    this.reads.push(key)
    return this.scope.reader.get(key)
  }

  async getJson<T>(name: string): Promise<T | null> {
    const raw = await this.get(name)
    return raw === null ? null : (JSON.parse(raw) as T)
  }

  hget(name: string, field: string): Promise<string | null> {
    const key = this.key(name)
    this.reads.push(`${key}\0${field}`)
    return this.scope.reader.hget(key, field)
  }

  hgetall(name: string): Promise<Record<string, string>> {
    const key = this.key(name)
    this.reads.push(key)
    return this.scope.reader.hgetall(key)
  }

  set(name: string, value: string): void {
    this.effects.writes.push({ kind: 'set', key: this.key(name), value })
  }

  setJson(name: string, value: unknown): void {
    this.effects.writes.push({ kind: 'set', key: this.key(name), value: JSON.stringify(value) })
  }

  del(name: string): void {
    this.effects.writes.push({ kind: 'del', key: this.key(name) })
  }

  hset(name: string, field: string, value: string): void {
    this.effects.writes.push({ kind: 'hset', key: this.key(name), field, value })
  }

  hdel(name: string, field: string): void {
    this.effects.writes.push({ kind: 'hdel', key: this.key(name), field })
  }

  hincrby(name: string, field: string, by: number): void {
    if (!Number.isInteger(by)) throw new TypeError(`hincrby(${name}, ${field}) needs an integer, got ${by}`)
    this.effects.writes.push({ kind: 'hincrby', key: this.key(name), field, by })
  }

  emit<P>(out: Emit<P>): EventId {
    const { contracts, consumer, keys, source } = this.scope
    const key = out.key ?? this.event.key
    const version = out.version ?? contracts.latestVersion(out.type) ?? 1
    contracts.validate(out.type, version, out.payload, `${consumer} emitting`)
    const id = deriveEventId(this.event.id, `${consumer}#${this.effects.emits.length}`)
    const fields = encodeEvent({
      id,
      type: out.type,
      version,
      source,
      occurredAt: (this.handledAt ??= new Date().toISOString()),
      correlationId: this.event.correlationId,
      causationId: this.event.id,
      key,
      payload: out.payload,
      ...(this.scope.producerVersion === undefined ? {} : { producerVersion: this.scope.producerVersion }),
    })
    const index = keys.correlation(this.event.correlationId)
    const target = this.scope.partitionOf?.(out.partitionKey ?? key) ?? keys.partition
    if (target === keys.partition) this.effects.emits.push({ kind: 'emit', stream: keys.stream(out.type), index, type: out.type, fields })
    else this.effects.emits.push({ kind: 'emit', stream: keys.outbox, index, type: out.type, fields: [...fields, OUTBOX_TARGET, String(target)], target })
    return id
  }
}
