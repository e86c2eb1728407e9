import type { Bus, ConsumerDefinition } from '../../bus/index.js'
import { readDeadLetters } from '../../bus/dead-letters.js'
import { compareEntryIds } from '../../bus/entry-ids.js'
import { toRecord } from '../../bus/reader.js'
import { decodeEvent } from '../../events/envelope.js'

type RawEntry = [id: string, fields: string[]]

export interface TranslationReconciliation {
  readonly consumer: string
  readonly from: string
  readonly to: string
  /** Old-type events in the window. */
  readonly old: number
  readonly translated: number
  /** Not translated yet: not read (lag) or read and pending. */
  readonly waiting: number
  readonly deadLettered: number
  /** Old events with no translation, neither waiting nor dead-lettered (entry ids of the first ones). */
  readonly missing: readonly string[]
  /** Translations of one old event more than once. */
  readonly twice: readonly string[]
}

const PAGE = 500

async function* entries(bus: Bus, type: string, from: string, to: string): AsyncGenerator<RawEntry> {
  let cursor = from
  for (;;) {
    const page = (await bus.redis.xrange(bus.keys.stream(type), cursor, to, 'COUNT', PAGE)) as RawEntry[]
    yield* page
    if (page.length < PAGE) return
    cursor = `(${(page[page.length - 1] as RawEntry)[0]}`
  }
}

/** Every old-type event of the window has exactly one translation, or waits for one, or was dead-lettered. */
export async function reconcileTranslation(bus: Bus, consumer: ConsumerDefinition, window: { readonly from: string; readonly to: string }): Promise<TranslationReconciliation> {
  const from = consumer.subscribes[0] as string
  const to = (consumer.emits ?? [])[0] as string
  const old = new Map<string, string>()
  for await (const [entryId, fields] of entries(bus, from, window.from, window.to)) old.set(decodeEvent(fields).id, entryId)
  const counts = new Map<string, number>()
  // Translations come after their old event: read the new stream from the window's start to its end.
  for await (const [, fields] of entries(bus, to, window.from, '+')) {
    const e = decodeEvent(fields)
    if (e.source === consumer.name && old.has(e.causationId)) counts.set(e.causationId, (counts.get(e.causationId) ?? 0) + 1)
  }
  const groups = (await bus.redis.xinfo('GROUPS', bus.keys.stream(from)).catch(() => [])) as unknown[][]
  const group = groups.map(toRecord).find((g) => g.name === consumer.name)
  const lastDelivered = String(group?.['last-delivered-id'] ?? '0-0')
  const pendingCount = Number(group?.pending ?? 0)
  const pending = new Set(pendingCount === 0 ? [] : ((await bus.redis.xpending(bus.keys.stream(from), consumer.name, '-', '+', pendingCount)) as [string][]).map((p) => p[0]))
  const dead = new Set<string>()
  for await (const d of readDeadLetters(bus, consumer.name)) dead.add(d.sourceEntryId)
  let translated = 0
  let waiting = 0
  let deadLettered = 0
  const missing: string[] = []
  const twice: string[] = []
  for (const [id, entryId] of old) {
    const n = counts.get(id) ?? 0
    if (n === 1) translated++
    else if (n > 1) twice.push(entryId)
    else if (dead.has(entryId)) deadLettered++
    else if (pending.has(entryId) || compareEntryIds(entryId, lastDelivered) > 0) waiting++
    else missing.push(entryId)
  }
  return { consumer: consumer.name, from, to, old: old.size, translated, waiting, deadLettered, missing: missing.slice(0, 20), twice: twice.slice(0, 20) }
}
