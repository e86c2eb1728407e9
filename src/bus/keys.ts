/**
 * Every Redis key name, in one place.
 *
 * A namespace has P partitions (default 1, stored under `partitions`). Each partition is a whole
 * copy of the runtime's layout (streams, groups, inbox, state, index, dead letters, lease,
 * breaker) under its own hash tag, so the atomic commit, which touches all of those together,
 * lands in one slot, and partitions spread over a Redis Cluster's shards. With P = 1 the one
 * partition's tag is `{ns}`, exactly the layout before partitions; with P > 1 partition p is
 * `{ns:p}`. The namespace's registry (streams, consumers, runtime, chaos holds, the partition
 * count) is global: always under `{ns}`, whatever partition a `Keys` is for. Never mix keys of
 * two partitions in one script or MULTI: they hash to different slots.
 */
export interface Keys {
  readonly namespace: string
  /** Which partition the partition-local keys below belong to (0 .. partitionCount - 1). */
  readonly partition: number
  readonly partitionCount: number
  /** Prefix every partition-local key starts with, e.g. `{pipeline}:` or `{pipeline:2}:` (SCAN patterns, Lua). */
  readonly prefix: string
  /** Prefix of the namespace's global keys: always `{<namespace>}:`. */
  readonly globalPrefix: string
  stream(type: string): string
  /** Consumer-group name of a consumer (one group per consumer, on each stream it reads). */
  group(consumer: string): string
  inbox(consumer: string): string
  attempts(consumer: string): string
  stats(consumer: string): string
  deadLetters(consumer: string): string
  lease(consumer: string): string
  /** A consumer's breaker (hash), absent while closed: open since when, why, the next probe. */
  breaker(consumer: string): string
  /** A consumer's own state key; `name` is the key the handler chose. */
  state(consumer: string, name: string): string
  /** Prefix of all state keys of a consumer (for inspection, reset, rebuild). */
  statePrefix(consumer: string): string
  /** A consumer's state being rebuilt online (`replay --rebuild` while it runs): swapped over `state` once proved equal. */
  shadowState(consumer: string, name: string): string
  shadowStatePrefix(consumer: string): string
  /** A projection's latest snapshot (`snapshotEvery`): where its state stood (hash) and a copy of the state keys. */
  snapshot(consumer: string): string
  snapshotStatePrefix(consumer: string): string
  correlation(correlationId: string): string
  /** The window replay of a consumer now running or left unfinished (JSON), for resuming it. */
  replayRun(consumer: string): string
  /** Input event ids a replay run has applied (sorted set), so a resumed run applies none twice. */
  replayInbox(consumer: string, runId: string): string
  /** Dedup marker of a published event id (publish is idempotent by id). */
  published(eventId: string): string
  /** Fault injection (`pipeline load --chaos`): set, a held instance stops before its next commit and says so in `chaosHeld`. */
  chaosHold(consumer: string): string
  chaosHeld(consumer: string): string
  /** Cross-partition emits waiting for the relay (stream): written in the source partition's commit, moved to the target partition under the same event id. */
  readonly outbox: string
  /**
   * The lease of the one relay reading this partition's outbox. `lease:relay:outbox` cannot be a
   * consumer's `lease:<consumer>`: `defineConsumer` refuses names with a `:`.
   */
  readonly relayLease: string
  /** Global: how many partitions the namespace has (string), absent for the default of 1. */
  readonly partitions: string
  /** Global: registry of streams and consumers seen in this namespace (for tail, status, schema). */
  readonly streams: string
  readonly consumers: string
  /** When an instance of each registered consumer was last seen (ms on Redis's clock): who is gone. */
  readonly consumersSeen: string
  /** Global: the live instances of a consumer sharing its partitions (hash: instance -> last beat, ms on Redis's clock). */
  instances(consumer: string): string
  /** Where the managed runtime (`pipeline up`) reports itself. */
  readonly runtime: string
}

/** Escapes SCAN MATCH specials: every prefix contains `{` and `}`, and names may hold `*`, `?` or `[`. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&')
}

const NAMESPACE = /^[A-Za-z0-9._-]{1,64}$/

/** The namespace when none is given (`--namespace`, PIPELINE_NAMESPACE). */
export const DEFAULT_NAMESPACE = 'pipeline'

export function isValidNamespace(namespace: string): boolean {
  return NAMESPACE.test(namespace)
}

/** At most this many partitions per namespace: each is a runner per consumer and a connection per runner. */
export const MAX_PARTITIONS = 256

export interface PartitionChoice {
  /** Default 0. */
  readonly partition?: number
  /** Default 1. */
  readonly count?: number
}

export function keysFor(namespace: string, choice: PartitionChoice = {}): Keys {
  if (!isValidNamespace(namespace)) {
    throw new Error(
      `namespace "${namespace}" is not valid: use 1-64 letters, digits, dots, dashes or underscores`,
    )
  }
  const count = choice.count ?? 1
  const partition = choice.partition ?? 0
  if (!Number.isInteger(count) || count < 1 || count > MAX_PARTITIONS) throw new Error(`partition count ${count} is not valid: use 1-${MAX_PARTITIONS}`)
  if (!Number.isInteger(partition) || partition < 0 || partition >= count) throw new Error(`partition ${partition} is not valid: use 0-${count - 1}`)
  const globalPrefix = `{${namespace}}:`
  const prefix = count === 1 ? globalPrefix : `{${namespace}:${partition}}:`
  return {
    namespace,
    partition,
    partitionCount: count,
    prefix,
    globalPrefix,
    stream: (type) => `${prefix}stream:${type}`,
    group: (consumer) => consumer,
    inbox: (consumer) => `${prefix}inbox:${consumer}`,
    attempts: (consumer) => `${prefix}attempts:${consumer}`,
    stats: (consumer) => `${prefix}stats:${consumer}`,
    deadLetters: (consumer) => `${prefix}dlq:${consumer}`,
    lease: (consumer) => `${prefix}lease:${consumer}`,
    breaker: (consumer) => `${prefix}breaker:${consumer}`,
    state: (consumer, name) => `${prefix}state:${consumer}:${name}`,
    statePrefix: (consumer) => `${prefix}state:${consumer}:`,
    shadowState: (consumer, name) => `${prefix}shadow:${consumer}:${name}`,
    shadowStatePrefix: (consumer) => `${prefix}shadow:${consumer}:`,
    snapshot: (consumer) => `${prefix}snapshot:${consumer}`,
    snapshotStatePrefix: (consumer) => `${prefix}snapshot:${consumer}:`,
    correlation: (correlationId) => `${prefix}corr:${correlationId}`,
    replayRun: (consumer) => `${prefix}replay:${consumer}`,
    replayInbox: (consumer, runId) => `${prefix}replay:${consumer}:${runId}`,
    published: (eventId) => `${prefix}pub:${eventId}`,
    outbox: `${prefix}outbox`,
    relayLease: `${prefix}lease:relay:outbox`,
    chaosHold: (consumer) => `${globalPrefix}chaos:hold:${consumer}`,
    chaosHeld: (consumer) => `${globalPrefix}chaos:held:${consumer}`,
    partitions: `${globalPrefix}partitions`,
    streams: `${globalPrefix}streams`,
    consumers: `${globalPrefix}consumers`,
    consumersSeen: `${globalPrefix}consumers:seen`,
    instances: (consumer) => `${globalPrefix}instances:${consumer}`,
    runtime: `${globalPrefix}runtime`,
  }
}

/** The keys of every partition of a namespace, index = partition. */
export function partitionKeys(namespace: string, count: number): readonly Keys[] {
  return Array.from({ length: count }, (_, partition) => keysFor(namespace, { partition, count }))
}

/**
 * The partition of a partition key: FNV-1a (32 bit) of its UTF-8 bytes, modulo the count. A
 * contract like the wire format: every process, and every version, must agree on it, or one
 * key's events would land in two partitions and lose their order.
 */
export function partitionOf(partitionKey: string, count: number): number {
  if (count === 1) return 0
  let hash = 0x811c9dc5
  for (const byte of Buffer.from(partitionKey, 'utf8')) {
    hash ^= byte
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash % count
}
