import { decodeEvent, type EventEnvelope } from '../events/envelope.js'
import { EventspineError, errorMessage } from '../errors.js'
import type { Bus } from './bus.js'
import { entryTime } from './entry-ids.js'
import { escapeGlob } from './keys.js'

/** Fields the runtime adds to a dead letter; every other field is the original event's. */
const DETAIL_FIELDS = new Set(['attempts', 'error', 'stack', 'stream', 'entryId', 'consumer', 'failedAt'])

/** One entry of a consumer's dead-letter stream, as `dlq show` reads it. */
export interface DeadLetter {
  /** `<consumer>:<dead-letter entry id>`: what `dlq show` and `dlq replay` take. */
  readonly id: string
  readonly consumer: string
  /** Entry id in the dead-letter stream (its time is when it was dead-lettered). */
  readonly entryId: string
  readonly error: string
  /** First lines of the stack of the last failure. */
  readonly stack: string
  readonly attempts: number
  /** Event type (stream) the event was read from, and its entry id there. */
  readonly stream: string
  readonly sourceEntryId: string
  readonly failedAt: string
  /** The original event; null when it could not be decoded (see `undecodable`) or was trimmed. */
  readonly event: EventEnvelope | null
  readonly undecodable?: string
  /** The original stream-entry fields, unchanged (re-delivery decodes these again). */
  readonly originalFields: readonly string[]
}

export function deadLetterId(consumer: string, entryId: string): string {
  return `${consumer}:${entryId}`
}

export function parseDeadLetter(consumer: string, entryId: string, fields: readonly string[]): DeadLetter {
  const details: Record<string, string> = {}
  const originalFields: string[] = []
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i] as string
    const value = fields[i + 1] as string
    if (DETAIL_FIELDS.has(name) && details[name] === undefined) details[name] = value
    else originalFields.push(name, value)
  }
  let event: EventEnvelope | null = null
  let undecodable: string | undefined
  if (originalFields.length === 0) undecodable = 'the entry was deleted (trimmed) before it was handled: no event to show or re-deliver'
  else {
    try {
      event = decodeEvent(originalFields, `dead letter ${entryId} of ${consumer}`)
    } catch (error) {
      undecodable = errorMessage(error)
    }
  }
  return {
    id: deadLetterId(consumer, entryId),
    consumer,
    entryId,
    error: details.error ?? '',
    stack: details.stack ?? '',
    attempts: Number(details.attempts ?? 0),
    stream: details.stream ?? '',
    sourceEntryId: details.entryId ?? '',
    failedAt: details.failedAt ?? new Date(entryTime(entryId)).toISOString(),
    event,
    ...(undecodable === undefined ? {} : { undecodable }),
    originalFields,
  }
}

/** Consumers that have a dead-letter stream in this namespace (SCAN, sorted). */
export async function deadLetterConsumers(bus: Bus): Promise<string[]> {
  const prefix = bus.keys.deadLetters('')
  const out = new Set<string>()
  let cursor = '0'
  do {
    const [next, keys] = (await bus.redis.call('SCAN', cursor, 'MATCH', `${escapeGlob(prefix)}*`, 'COUNT', 1000, 'TYPE', 'stream')) as [string, string[]]
    cursor = next
    for (const key of keys) out.add(key.slice(prefix.length))
  } while (cursor !== '0')
  return [...out].sort()
}

/**
 * Every dead letter of a consumer, oldest first, read in pages (small ones: a dead letter carries
 * its event, which may carry a whole file). `to` bounds the read (inclusive), so entries added
 * while iterating (a re-delivery that failed again) are not met twice.
 */
export async function* readDeadLetters(bus: Bus, consumer: string, options: { pageSize?: number; to?: string } = {}): AsyncGenerator<DeadLetter> {
  const pageSize = options.pageSize ?? 50
  let from = '-'
  for (;;) {
    const page = (await bus.redis.xrange(bus.keys.deadLetters(consumer), from, options.to ?? '+', 'COUNT', pageSize)) as [string, string[]][]
    for (const [entryId, fields] of page) yield parseDeadLetter(consumer, entryId, fields)
    if (page.length < pageSize) return
    from = `(${(page[page.length - 1] as [string, string[]])[0]}`
  }
}

/** Id of a consumer's newest dead letter now (null when none). */
export async function newestDeadLetterId(bus: Bus, consumer: string): Promise<string | null> {
  const [entry] = (await bus.redis.xrevrange(bus.keys.deadLetters(consumer), '+', '-', 'COUNT', 1)) as [string, string[]][]
  return entry ? entry[0] : null
}

export interface DeadLetterSummary {
  readonly consumer: string
  readonly count: number
  readonly oldest: { readonly id: string; readonly failedAt: string } | null
  readonly newest: { readonly id: string; readonly failedAt: string } | null
  /** Most frequent error messages (first line) among the newest `errorsSampled`, most frequent first. */
  readonly topErrors: readonly { readonly error: string; readonly count: number }[]
  readonly errorsSampled: number
  /** The first `limit` dead letters, oldest first, without their payloads. */
  readonly entries: readonly { readonly id: string; readonly type: string | null; readonly key: string | null; readonly attempts: number; readonly failedAt: string; readonly error: string }[]
}

/**
 * Per consumer: how many dead letters wait, the oldest and newest, the top errors (of the newest
 * `sample`, default 1,000: dead letters carry whole events), and the first `limit` (default 20).
 */
export async function listDeadLetters(bus: Bus, options: { consumer?: string; limit?: number; topErrors?: number; sample?: number } = {}): Promise<DeadLetterSummary[]> {
  const consumers = options.consumer === undefined ? await deadLetterConsumers(bus) : [options.consumer]
  const out: DeadLetterSummary[] = []
  for (const consumer of consumers) {
    const key = bus.keys.deadLetters(consumer)
    const count = await bus.redis.xlen(key)
    if (count === 0 && options.consumer === undefined) continue
    const limit = options.limit ?? 20
    const first = limit > 0 ? ((await bus.redis.xrange(key, '-', '+', 'COUNT', limit)) as [string, string[]][]) : []
    const entries = first.map(([entryId, fields]) => {
      const d = parseDeadLetter(consumer, entryId, fields)
      return { id: d.id, type: d.event?.type ?? null, key: d.event?.key ?? null, attempts: d.attempts, failedAt: d.failedAt, error: firstLine(d.error) }
    })
    const errors = new Map<string, number>()
    let sampled = 0
    let oldest: DeadLetter | undefined
    let newest: DeadLetter | undefined
    for (let to = '+'; sampled < (options.sample ?? 1_000); ) {
      const page = (await bus.redis.xrevrange(key, to, '-', 'COUNT', 50)) as [string, string[]][]
      for (const [entryId, fields] of page) {
        const d = parseDeadLetter(consumer, entryId, fields)
        newest ??= d
        oldest = d
        errors.set(firstLine(d.error), (errors.get(firstLine(d.error)) ?? 0) + 1)
        sampled++
      }
      if (page.length < 50) break
      to = `(${(page[page.length - 1] as [string, string[]])[0]}`
    }
    const [head] = first.length > 0 || count === 0 ? first : ((await bus.redis.xrange(key, '-', '+', 'COUNT', 1)) as [string, string[]][])
    if (head) oldest = parseDeadLetter(consumer, head[0], head[1])
    const topErrors = [...errors].map(([error, n]) => ({ error, count: n })).sort((a, b) => b.count - a.count || a.error.localeCompare(b.error))
    out.push({
      consumer,
      count,
      oldest: oldest ? { id: oldest.id, failedAt: oldest.failedAt } : null,
      newest: newest ? { id: newest.id, failedAt: newest.failedAt } : null,
      topErrors: topErrors.slice(0, options.topErrors ?? 5),
      errorsSampled: sampled,
      entries,
    })
  }
  return out
}

function firstLine(error: string): string {
  return (error.split('\n')[0] ?? '').slice(0, 200)
}

/**
 * Finds one dead letter by `<consumer>:<entry id>`, or by a bare entry id searched in every
 * consumer's dead-letter stream. Throws `E_DLQ_NOT_FOUND` / `E_DLQ_AMBIGUOUS` otherwise.
 */
export async function findDeadLetter(bus: Bus, ref: string): Promise<DeadLetter> {
  const at = ref.lastIndexOf(':')
  const entryId = at >= 0 ? ref.slice(at + 1) : ref
  if (!/^\d+-\d+$/.test(entryId)) {
    throw new EventspineError('E_DLQ_BAD_ID', `"${ref}" is not a dead-letter id`, {
      hint: 'Dead-letter ids look like `score:1764086400000-0` (consumer:entry id); `pipeline dlq list` shows them.',
    })
  }
  const consumers = at >= 0 ? [ref.slice(0, at)] : await deadLetterConsumers(bus)
  const found: DeadLetter[] = []
  for (const consumer of consumers) {
    const [entry] = (await bus.redis.xrange(bus.keys.deadLetters(consumer), entryId, entryId)) as [string, string[]][]
    if (entry) found.push(parseDeadLetter(consumer, entry[0], entry[1]))
  }
  if (found.length === 1) return found[0] as DeadLetter
  if (found.length === 0) {
    throw new EventspineError('E_DLQ_NOT_FOUND', `no dead letter ${ref} in namespace ${bus.namespace}`, {
      hint: 'It may have been replayed or purged already; `pipeline dlq list` shows what is waiting.',
    })
  }
  throw new EventspineError('E_DLQ_AMBIGUOUS', `entry id ${entryId} names a dead letter of several consumers: ${found.map((d) => d.consumer).join(', ')}`, {
    hint: `Name one: ${found.map((d) => d.id).join(' or ')}.`,
  })
}

export interface PurgeResult {
  readonly consumer: string
  readonly purged: number
}

/** Deletes the dead-letter streams of one consumer or of all; returns what each held. */
export async function purgeDeadLetters(bus: Bus, options: { consumer?: string } = {}): Promise<PurgeResult[]> {
  const consumers = options.consumer === undefined ? await deadLetterConsumers(bus) : [options.consumer]
  const out: PurgeResult[] = []
  for (const consumer of consumers) {
    // One MULTI: the count reported is exactly what was deleted.
    const replies = (await bus.redis.multi().xlen(bus.keys.deadLetters(consumer)).unlink(bus.keys.deadLetters(consumer)).exec()) ?? []
    out.push({ consumer, purged: Number(replies[0]?.[1] ?? 0) })
  }
  return out
}
