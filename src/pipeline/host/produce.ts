import { createBus } from '../../bus/bus.js'
import type { NewEvent } from '../../bus/types.js'
import { EventspineError, errorMessage } from '../../errors.js'
import { defaultContractsDir, loadContracts } from '../../events/index.js'
import { isEventId, type CorrelationId, type EventId } from '../../events/ids.js'
import { resolveRedis } from '../../redis/index.js'

export interface ProducedEvent {
  readonly id: string
  readonly type: string
  readonly key: string
  readonly correlationId: string
  /** The stream entry appended, or null when this id was already published (nothing appended). */
  readonly entryId: string | null
}

export interface ProduceResult {
  readonly events: readonly ProducedEvent[]
  readonly appended: number
  readonly duplicates: number
}

/** Where the events come from: one from the command's flags, or NDJSON in `tail --ndjson`'s shape. */
export type ProduceInput =
  | { readonly from: 'flags'; readonly fields: Readonly<Record<string, unknown>> }
  | { readonly from: 'ndjson'; readonly text: string }

/**
 * `pipeline produce`: every event is read and checked against the contracts first, so a bad
 * line (its number in the message) sends nothing; then they are published as `publish` does,
 * idempotent by id. Never starts Redis.
 */
export async function produceEvents(options: { input: ProduceInput; redisUrl?: string | undefined; namespace: string; projectDir: string }): Promise<ProduceResult> {
  const contracts = loadContracts(defaultContractsDir())
  const lines = options.input.from === 'flags' ? [{ event: eventFromObject(options.input.fields, '--flags'), where: 'event' }] : parseEventLines(options.input.text)
  for (const { event, where } of lines) contracts.validate(event.type, event.version ?? contracts.latestVersion(event.type) ?? 1, event.payload, where)
  const redis = await resolveRedis({ url: options.redisUrl, projectDir: options.projectDir, startIfMissing: false })
  const bus = await createBus({ url: redis.url, namespace: options.namespace, contracts, warn: () => {} })
  try {
    const published = await bus.publish(lines.map((l) => l.event))
    const events = published.map((p) => ({ id: p.id, type: p.type, key: p.key, correlationId: p.correlationId, entryId: p.entryId }))
    const appended = events.filter((p) => p.entryId !== null).length
    return { events, appended, duplicates: events.length - appended }
  } finally {
    await bus.close()
  }
}

/** NDJSON as `tail --ndjson` prints it (`{"entryId", ...envelope}`; `entryId` is ignored), each event with its line for messages. */
export function parseEventLines(text: string): { event: NewEvent; where: string }[] {
  const out: { event: NewEvent; where: string }[] = []
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim()
    if (line !== '') out.push({ event: eventFromJson(line, `line ${i + 1}`), where: `line ${i + 1}` })
  })
  if (out.length === 0) {
    throw new EventspineError('E_PRODUCE_EMPTY', 'no events on stdin', { hint: 'Pipe NDJSON (one event per line, as `pipeline tail --ndjson` prints), or pass --type, --key and --payload.' })
  }
  return out
}

function eventFromJson(line: string, where: string): NewEvent {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch (error) {
    throw new EventspineError('E_PRODUCE_JSON', `${where}: not JSON (${errorMessage(error)})`, { hint: 'One JSON object per line, as `pipeline tail --ndjson` prints.' })
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw inputError(where, 'is not a JSON object')
  return eventFromObject(value as Record<string, unknown>, where)
}

/** The envelope fields of one event, checked; `where` is `line N`, or `--flags` (then a bad value is a usage error). */
function eventFromObject(o: Readonly<Record<string, unknown>>, where: string): NewEvent {
  if (typeof o.error === 'string' && o.payload === undefined) throw inputError(where, `is not an event (tail printed: ${o.error})`)
  const text = (field: string, required: boolean): string | undefined => {
    const v = o[field]
    if (v === undefined && !required) return undefined
    if (typeof v !== 'string' || (required && v === '')) throw inputError(where, `"${field}" must be a${required ? ' non-empty' : ''} string`)
    return v
  }
  const type = text('type', true) as string
  const key = text('key', true) as string
  if (!('payload' in o)) throw inputError(where, '"payload" is missing')
  const id = text('id', false)
  if (id !== undefined && !isEventId(id)) throw inputError(where, `"id" ${JSON.stringify(id)} is not a UUID`)
  const correlationId = text('correlationId', false)
  if (correlationId !== undefined && !isUuid(correlationId)) throw inputError(where, `"correlationId" ${JSON.stringify(correlationId)} is not a UUID`)
  const causationId = text('causationId', false)
  const version = o.version
  if (version !== undefined && !(typeof version === 'number' && Number.isInteger(version) && version > 0)) throw inputError(where, '"version" must be a positive integer')
  const source = text('source', false)
  const occurredAt = text('occurredAt', false)
  return {
    type,
    key,
    payload: o.payload,
    ...(id === undefined ? {} : { id: id as EventId }),
    ...(correlationId === undefined ? {} : { correlationId: correlationId as CorrelationId }),
    ...(causationId === undefined ? {} : { causationId: causationId as EventId | '' }),
    ...(version === undefined ? {} : { version: version as number }),
    ...(source === undefined ? {} : { source }),
    ...(occurredAt === undefined ? {} : { occurredAt }),
  }
}

// Correlation ids are UUIDs too; a plain check, without isEventId's narrowing to EventId.
const isUuid = (value: string): boolean => isEventId(value)

function inputError(where: string, what: string): EventspineError {
  if (where === '--flags') return new EventspineError('E_PRODUCE_FLAGS', what.replace(/"(\w+)"/, (_, f: string) => `--${f.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`), { details: { usage: true } })
  return new EventspineError('E_PRODUCE_EVENT', `${where}: ${what}`, { hint: 'Each event needs "type", "key" and "payload"; "id", "version", "correlationId", "causationId", "source" and "occurredAt" are kept when given.' })
}

/** All of a stream (stdin) as text. */
export async function readAll(stream: AsyncIterable<Buffer | string>): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
  return Buffer.concat(chunks).toString('utf8')
}
