import { partitionBus, type Bus, type ConsumerDefinition } from '../../bus/index.js'
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

/**
 * Every old-type event of the window has exactly one translation, or waits for one, or was
 * dead-lettered. Old and new events are read in every partition (a translation may go to another
 * partition than its old event); waiting is told by the old event's own partition's group.
 */
export async function reconcileTranslation(bus: Bus, consumer: ConsumerDefinition, window: { readonly from: string; readonly to: string }): Promise<TranslationReconciliation> {
  const from = consumer.subscribes[0] as string
  const to = (consumer.emits ?? [])[0] as string
  const old = new Map<string, { entryId: string; partition: number }>()
  const counts = new Map<string, number>()
  const pending = new Set<string>()
  const lastDelivered: string[] = []
  for (let p = 0; p < bus.partitionCount; p++) {
    const view = partitionBus(bus, p)
    for await (const [entryId, fields] of entries(view, from, window.from, window.to)) old.set(decodeEvent(fields).id, { entryId, partition: p })
  }
  for (let p = 0; p < bus.partitionCount; p++) {
    const view = partitionBus(bus, p)
    // Translations come after their old event: read the new stream from the window's start to its end.
    for await (const [, fields] of entries(view, to, window.from, '+')) {
      const e = decodeEvent(fields)
      if (e.source === consumer.name && old.has(e.causationId)) counts.set(e.causationId, (counts.get(e.causationId) ?? 0) + 1)
    }
    const groups = (await view.redis.xinfo('GROUPS', view.keys.stream(from)).catch(() => [])) as unknown[][]
    const group = groups.map(toRecord).find((g) => g.name === consumer.name)
    lastDelivered[p] = String(group?.['last-delivered-id'] ?? '0-0')
    const pendingCount = Number(group?.pending ?? 0)
    if (pendingCount > 0) for (const [id] of (await view.redis.xpending(view.keys.stream(from), consumer.name, '-', '+', pendingCount)) as [string][]) pending.add(`${p} ${id}`)
  }
  const dead = new Set<string>()
  for await (const d of readDeadLetters(bus, consumer.name)) dead.add(`${d.partition ?? 0} ${d.sourceEntryId}`)
  let translated = 0
  let waiting = 0
  let deadLettered = 0
  const missing: string[] = []
  const twice: string[] = []
  for (const [id, { entryId, partition }] of old) {
    const n = counts.get(id) ?? 0
    const at = `${partition} ${entryId}`
    if (n === 1) translated++
    else if (n > 1) twice.push(entryId)
    else if (dead.has(at)) deadLettered++
    else if (pending.has(at) || compareEntryIds(entryId, lastDelivered[partition] ?? '0-0') > 0) waiting++
    else missing.push(entryId)
  }
  return { consumer: consumer.name, from, to, old: old.size, translated, waiting, deadLettered, missing: missing.slice(0, 20), twice: twice.slice(0, 20) }
}
