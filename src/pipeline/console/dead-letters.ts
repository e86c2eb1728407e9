import { eachPartition, newestFirstPage } from '../../bus/across.js'
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

/** One page of a consumer's dead letters, newest first over every partition, without their payloads (a summary instead). */
export async function deadLetterPage(bus: Bus, consumer: string, options: { cursor?: string | null; limit?: number } = {}): Promise<DeadLetterPage> {
  const limit = Math.min(Math.max(options.limit ?? 25, 1), 100)
  const each = await eachPartition(bus, async (view) => {
    const key = view.keys.deadLetters(consumer)
    const [count, entries] = await Promise.all([
      view.redis.xlen(key),
      view.redis.xrevrange(key, options.cursor ? `(${options.cursor}` : '+', '-', 'COUNT', limit + 1) as Promise<[string, string[]][]>,
    ])
    return { count, letters: entries.map(([entryId, fields]) => parseDeadLetter(consumer, entryId, fields, view.keys)) }
  })
  const { page, cursor } = newestFirstPage(each.map((e) => e.letters), (d) => d.entryId, limit)
  return {
    consumer,
    count: each.reduce((n, e) => n + e.count, 0),
    entries: page.map((d) => ({
      id: d.id,
      entryId: d.entryId,
      failedAt: d.failedAt,
      attempts: d.attempts,
      error: d.error,
      stack: d.stack,
      eventType: d.event?.type ?? null,
      eventId: d.event?.id ?? null,
      correlationId: d.event?.correlationId ?? null,
      summary: d.event ? summarizePayload(d.event.payload, 160) : '',
      ...(d.undecodable === undefined ? {} : { undecodable: d.undecodable }),
    })),
    cursor,
  }
}
