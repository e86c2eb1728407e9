/**
 * Every Redis key name, in one place. All keys of a namespace share the hash tag `{ns}`, so the
 * atomic commit (which touches streams, inbox, state, index and dead letters together) lands in
 * one slot and the same layout runs on Redis Cluster.
 */
export interface Keys {
  readonly namespace: string
  /** Prefix every key starts with, e.g. `{pipeline}:` (handy for SCAN patterns and Lua). */
  readonly prefix: string
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
  /** Registry of streams and consumers seen in this namespace (for tail, status, schema). */
  readonly streams: string
  readonly consumers: string
  /** When an instance of each registered consumer was last seen (ms on Redis's clock): who is gone. */
  readonly consumersSeen: string
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

export function keysFor(namespace: string): Keys {
  if (!isValidNamespace(namespace)) {
    throw new Error(
      `namespace "${namespace}" is not valid: use 1-64 letters, digits, dots, dashes or underscores`,
    )
  }
  const prefix = `{${namespace}}:`
  return {
    namespace,
    prefix,
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
    chaosHold: (consumer) => `${prefix}chaos:hold:${consumer}`,
    chaosHeld: (consumer) => `${prefix}chaos:held:${consumer}`,
    streams: `${prefix}streams`,
    consumers: `${prefix}consumers`,
    consumersSeen: `${prefix}consumers:seen`,
    runtime: `${prefix}runtime`,
  }
}
