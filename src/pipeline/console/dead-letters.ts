import type { Bus } from '../../bus/index.js'
import { parseDeadLetter } from '../../bus/dead-letters.js'
import { summarizePayload } from '../inspect/summary.js'

export interface DeadLetterRow {
  readonly id: string
  readonly entryId: string
  readonly failedAt: string
  readonly attempts: number
  readonly error: string
  readonly stack: string
  readonly eventType: string | null
  readonly eventId: string | null
  readonly correlationId: string | null
  readonly summary: string
  readonly undecodable?: string
}

export interface DeadLetterPage {
  readonly consumer: string
  readonly count: number
  /** Newest first; `cursor` pages on to older ones. */
  readonly entries: readonly DeadLetterRow[]
  readonly cursor: string | null
}

/** One page of a consumer's dead letters, newest first, without their payloads (a summary instead). */
export async function deadLetterPage(bus: Bus, consumer: string, options: { cursor?: string | null; limit?: number } = {}): Promise<DeadLetterPage> {
  const key = bus.keys.deadLetters(consumer)
  const limit = Math.min(Math.max(options.limit ?? 25, 1), 100)
  const [count, page] = await Promise.all([
    bus.redis.xlen(key),
    bus.redis.xrevrange(key, options.cursor ? `(${options.cursor}` : '+', '-', 'COUNT', limit + 1) as Promise<[string, string[]][]>,
  ])
  return {
    consumer,
    count,
    entries: page.slice(0, limit).map(([entryId, fields]) => {
      const d = parseDeadLetter(consumer, entryId, fields)
      return {
        id: d.id,
        entryId,
        failedAt: d.failedAt,
        attempts: d.attempts,
        error: d.error,
        stack: d.stack,
        eventType: d.event?.type ?? null,
        eventId: d.event?.id ?? null,
        correlationId: d.event?.correlationId ?? null,
        summary: d.event ? summarizePayload(d.event.payload, 160) : '',
        ...(d.undecodable === undefined ? {} : { undecodable: d.undecodable }),
      }
    }),
    cursor: page.length > limit ? (page[limit - 1]?.[0] ?? null) : null,
  }
}
