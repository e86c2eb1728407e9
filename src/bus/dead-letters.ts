import { decodeEvent, type EventEnvelope } from '../events/envelope.js'
import { EventspineError, errorMessage } from '../errors.js'
import { eachPartition, mergeByEntryTime } from './across.js'
import { partitionBus, type Bus } from './bus.js'
import { entryTime } from './entry-ids.js'
import { escapeGlob, type Keys } from './keys.js'
import { scanAll } from '../redis/nodes.js'

/** Fields the runtime adds to a dead letter; every other field is the original event's. */
const DETAIL_FIELDS = new Set(['attempts', 'error', 'stack', 'stream', 'entryId', 'consumer', 'failedAt'])

/** One entry of a consumer's dead-letter stream, as `dlq show` reads it. */
export interface DeadLetter {
  /**
   * `<consumer>:<dead-letter entry id>`, what `dlq show` and `dlq replay` take; with more than
   * one partition `<consumer>:<partition>/<entry id>` (two partitions' entry ids can be equal).
   */
  readonly id: string
  readonly consumer: string
  /** The partition whose dead-letter stream holds it (only with more than one partition). */
  readonly partition?: number
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

type Where = Pick<Keys, 'partition' | 'partitionCount'>

export function deadLetterId(consumer: string, entryId: string, where?: Where): string {
  return where === undefined || where.partitionCount === 1 ? `${consumer}:${entryId}` : `${consumer}:${where.partition}/${entryId}`
}

/** A dead letter's stream entry as `DeadLetter`; `where` is the partition it was read from (its keys). */
export function parseDeadLetter(consumer: string, entryId: string, fields: readonly string[], where?: Where): DeadLetter {
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
    id: deadLetterId(consumer, entryId, where),
    consumer,
    ...(where === undefined || where.partitionCount === 1 ? {} : { partition: where.partition }),
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

/** Consumers that have a dead-letter stream in this namespace, in any partition (SCAN, sorted). */
export async function deadLetterConsumers(bus: Bus): Promise<string[]> {
  const each = await eachPartition(bus, partitionDeadLetterConsumers)
  return [...new Set(each.flat())].sort()
}

async function partitionDeadLetterConsumers(bus: Bus): Promise<string[]> {
  const prefix = bus.keys.deadLetters('')
  const keys = await scanAll(bus.redis, { match: `${escapeGlob(prefix)}*`, type: 'stream' })
  return [...new Set(keys.map((key) => key.slice(prefix.length)))].sort()
}

/** Every dead letter of a consumer, partition after partition, each oldest first (see `readPartitionDeadLetters`). */
export async function* readDeadLetters(bus: Bus, consumer: string, options: { pageSize?: number } = {}): AsyncGenerator<DeadLetter> {
  for (let p = 0; p < bus.partitionCount; p++) yield* readPartitionDeadLetters(partitionBus(bus, p), consumer, options)
}

/**
 * Every dead letter of a consumer in the partition of `bus.keys`, oldest first, read in pages
 * (small ones: a dead letter carries its event, which may carry a whole file). `to` bounds the
 * read (inclusive), so entries added while iterating (a re-delivery that failed again) are not
 * met twice.
 */
export async function* readPartitionDeadLetters(bus: Bus, consumer: string, options: { pageSize?: number; to?: string } = {}): AsyncGenerator<DeadLetter> {
  const pageSize = options.pageSize ?? 50
  let from = '-'
  for (;;) {
    const page = (await bus.redis.xrange(bus.keys.deadLetters(consumer), from, options.to ?? '+', 'COUNT', pageSize)) as [string, string[]][]
    for (const [entryId, fields] of page) yield parseDeadLetter(consumer, entryId, fields, bus.keys)
    if (page.length < pageSize) return
    from = `(${(page[page.length - 1] as [string, string[]])[0]}`
  }
}

/** Id of a consumer's newest dead letter now in the partition of `bus.keys` (null when none). */
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

type ListOptions = { consumer?: string; limit?: number; topErrors?: number; sample?: number }

/**
 * Per consumer: how many dead letters wait, the oldest and newest, the top errors (of the newest
 * `sample`, default 1,000: dead letters carry whole events), and the first `limit` (default 20).
 * With more than one partition each is listed alone and the summaries merged by consumer
 * (counts summed, entries in entry-time order, errors of each partition's sample).
 */
export async function listDeadLetters(bus: Bus, options: ListOptions = {}): Promise<DeadLetterSummary[]> {
  if (bus.partitionCount === 1) return listPartitionDeadLetters(bus, options)
  const names = options.consumer === undefined ? await deadLetterConsumers(bus) : [options.consumer]
  const each = await eachPartition(bus, (partition) => listPartitionDeadLetters(partition, options, names))
  const out: DeadLetterSummary[] = []
  for (const consumer of names) {
    const parts = each.flatMap((list) => list.filter((s) => s.consumer === consumer))
    const count = parts.reduce((n, s) => n + s.count, 0)
    if (count === 0 && options.consumer === undefined) continue
    const at = (ref: { id: string } | null) => (ref === null ? Number.NaN : entryTime(ref.id.slice(ref.id.lastIndexOf('/') + 1)))
    const known = <T extends { id: string } | null>(refs: T[]) => refs.filter((r): r is NonNullable<T> => r !== null)
    const errors = new Map<string, number>()
    for (const s of parts) for (const e of s.topErrors) errors.set(e.error, (errors.get(e.error) ?? 0) + e.count)
    out.push({
      consumer,
      count,
      oldest: known(parts.map((s) => s.oldest)).sort((a, b) => at(a) - at(b))[0] ?? null,
      newest: known(parts.map((s) => s.newest)).sort((a, b) => at(b) - at(a))[0] ?? null,
      topErrors: [...errors].map(([error, n]) => ({ error, count: n })).sort((a, b) => b.count - a.count || a.error.localeCompare(b.error)).slice(0, options.topErrors ?? 5),
      errorsSampled: parts.reduce((n, s) => n + s.errorsSampled, 0),
      entries: mergeByEntryTime(parts.map((s) => s.entries), (e) => e.id.slice(e.id.lastIndexOf('/') + 1)).slice(0, options.limit ?? 20),
    })
  }
  return out
}

/** `listDeadLetters` of the partition of `bus.keys`; given `names` (every partition's, read once), each of them is listed, empty or not. */
async function listPartitionDeadLetters(bus: Bus, options: ListOptions, names?: readonly string[]): Promise<DeadLetterSummary[]> {
  const consumers = names ?? (options.consumer === undefined ? await deadLetterConsumers(bus) : [options.consumer])
  const out: DeadLetterSummary[] = []
  for (const consumer of consumers) {
    const key = bus.keys.deadLetters(consumer)
    const count = await bus.redis.xlen(key)
    if (count === 0 && (options.consumer === undefined || names !== undefined)) continue
    const limit = options.limit ?? 20
    const first = limit > 0 ? ((await bus.redis.xrange(key, '-', '+', 'COUNT', limit)) as [string, string[]][]) : []
    const entries = first.map(([entryId, fields]) => {
      const d = parseDeadLetter(consumer, entryId, fields, bus.keys)
      return { id: d.id, type: d.event?.type ?? null, key: d.event?.key ?? null, attempts: d.attempts, failedAt: d.failedAt, error: firstLine(d.error) }
    })
    const errors = new Map<string, number>()
    let sampled = 0
    let oldest: DeadLetter | undefined
    let newest: DeadLetter | undefined
    for (let to = '+'; sampled < (options.sample ?? 1_000); ) {
      const page = (await bus.redis.xrevrange(key, to, '-', 'COUNT', 50)) as [string, string[]][]
      for (const [entryId, fields] of page) {
        const d = parseDeadLetter(consumer, entryId, fields, bus.keys)
        newest ??= d
        oldest = d
        errors.set(firstLine(d.error), (errors.get(firstLine(d.error)) ?? 0) + 1)
        sampled++
      }
      if (page.length < 50) break
      to = `(${(page[page.length - 1] as [string, string[]])[0]}`
    }
    const [head] = first.length > 0 || count === 0 ? first : ((await bus.redis.xrange(key, '-', '+', 'COUNT', 1)) as [string, string[]][])
    if (head) oldest = parseDeadLetter(consumer, head[0], head[1], bus.keys)
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

/** A dead-letter reference taken apart: `[<consumer>:][<partition>/]<entry id>`. */
function parseRef(bus: Bus, ref: string): { consumer: string | null; partition: number | null; entryId: string } {
  const at = ref.lastIndexOf(':')
  const tail = at >= 0 ? ref.slice(at + 1) : ref
  const slash = tail.indexOf('/')
  const entryId = slash >= 0 ? tail.slice(slash + 1) : tail
  const partition = slash >= 0 && /^\d+$/.test(tail.slice(0, slash)) ? Number(tail.slice(0, slash)) : null
  if (!/^\d+-\d+$/.test(entryId) || (slash >= 0 && (partition === null || partition >= bus.partitionCount))) {
    throw new EventspineError('E_DLQ_BAD_ID', `"${ref}" is not a dead-letter id`, {
      hint:
        bus.partitionCount === 1
          ? 'Dead-letter ids look like `score:1764086400000-0` (consumer:entry id); `pipeline dlq list` shows them.'
          : `Dead-letter ids look like \`score:3/1764086400000-0\` (consumer:partition/entry id, partitions 0-${bus.partitionCount - 1}); \`pipeline dlq list\` shows them.`,
    })
  }
  return { consumer: at >= 0 ? ref.slice(0, at) : null, partition, entryId }
}

/**
 * Finds one dead letter by `<consumer>:<entry id>` (with partitions `<consumer>:<partition>/<entry
 * id>`), or by a bare entry id searched in every consumer's dead-letter stream (and, without a
 * partition, in every partition). Throws `E_DLQ_NOT_FOUND` / `E_DLQ_AMBIGUOUS` otherwise.
 */
export async function findDeadLetter(bus: Bus, ref: string): Promise<DeadLetter> {
  const { consumer, partition, entryId } = parseRef(bus, ref)
  const consumers = consumer !== null ? [consumer] : await deadLetterConsumers(bus)
  const each = await eachPartition(bus, async (view, p) => {
    if (partition !== null && p !== partition) return []
    const found: DeadLetter[] = []
    for (const name of consumers) {
      const [entry] = (await view.redis.xrange(view.keys.deadLetters(name), entryId, entryId)) as [string, string[]][]
      if (entry) found.push(parseDeadLetter(name, entry[0], entry[1], view.keys))
    }
    return found
  })
  const found = each.flat()
  if (found.length === 1) return found[0] as DeadLetter
  if (found.length === 0) {
    throw new EventspineError('E_DLQ_NOT_FOUND', `no dead letter ${ref} in namespace ${bus.namespace}`, {
      hint: 'It may have been replayed or purged already; `pipeline dlq list` shows what is waiting.',
    })
  }
  const several = new Set(found.map((d) => d.consumer)).size > 1 ? 'several consumers' : 'several partitions'
  throw new EventspineError('E_DLQ_AMBIGUOUS', `entry id ${entryId} names a dead letter of ${several}: ${found.map((d) => d.id).join(', ')}`, {
    hint: `Name one: ${found.map((d) => d.id).join(' or ')}.`,
  })
}

export interface PurgeResult {
  readonly consumer: string
  readonly purged: number
}

/**
 * Deletes dead letters for good: these (`ids`, as `findDeadLetter` takes them), or the dead-letter
 * streams of one consumer or of all, in every partition. Returns how many each consumer lost.
 */
export async function purgeDeadLetters(bus: Bus, options: { consumer?: string; ids?: readonly string[] } = {}): Promise<PurgeResult[]> {
  if (options.ids !== undefined && options.ids.length > 0) {
    const chosen: DeadLetter[] = []
    for (const ref of options.ids) chosen.push(await findDeadLetter(bus, ref)) // every id found before anything is deleted
    const purged = new Map<string, number>()
    for (const dead of chosen) {
      const view = partitionBus(bus, dead.partition ?? 0)
      purged.set(dead.consumer, (purged.get(dead.consumer) ?? 0) + (await view.redis.xdel(view.keys.deadLetters(dead.consumer), dead.entryId)))
    }
    return [...purged].map(([consumer, n]) => ({ consumer, purged: n }))
  }
  const consumers = options.consumer === undefined ? await deadLetterConsumers(bus) : [options.consumer]
  const each = await eachPartition(bus, async (view) => {
    const out: PurgeResult[] = []
    for (const consumer of consumers) {
      // One MULTI per partition: the count reported is exactly what was deleted.
      const replies = (await view.redis.multi().xlen(view.keys.deadLetters(consumer)).unlink(view.keys.deadLetters(consumer)).exec()) ?? []
      out.push({ consumer, purged: Number(replies[0]?.[1] ?? 0) })
    }
    return out
  })
  return consumers.map((consumer) => ({ consumer, purged: each.reduce((n, list) => n + (list.find((r) => r.consumer === consumer)?.purged ?? 0), 0) }))
}
