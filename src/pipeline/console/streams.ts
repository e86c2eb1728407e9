import { eachPartition, newestFirstPage, sumKnown } from '../../bus/across.js'
import { compareEntryIds } from '../../bus/entry-ids.js'
import type { Bus } from '../../bus/index.js'
import { toRecord } from '../../bus/reader.js'
import { decodeEvent } from '../../events/index.js'
import { errorMessage } from '../../errors.js'
import { summarizePayload } from '../inspect/summary.js'

export interface StreamGroup {
  readonly name: string
  readonly consumers: number
  readonly pending: number
  /** Null when Redis cannot tell (XINFO GROUPS after trims). */
  readonly lag: number | null
  readonly lastDeliveredId: string
  /** The oldest pending entries of the group: who holds them, for how long, how often delivered. */
  readonly oldestPending: readonly { readonly entryId: string; readonly holder: string; readonly idleMs: number; readonly deliveries: number }[]
}

export interface StreamEntry {
  readonly entryId: string
  readonly id: string
  readonly type: string
  readonly source: string
  readonly key: string
  readonly correlationId: string
  readonly summary: string
  /** Set when the entry is not an envelope this version can read. */
  readonly undecodable?: string
}

export interface StreamPage {
  readonly type: string
  readonly length: number
  readonly groups: readonly StreamGroup[]
  /** Newest first; `cursor` pages on to older ones (null: the start of the stream). */
  readonly entries: readonly StreamEntry[]
  readonly cursor: string | null
}

const PENDING_SHOWN = 10

/**
 * A stream's groups (with their oldest pending entries) and one page of its entries, decoded,
 * newest first. With partitions, each partition's stream is read alone and merged: lengths and
 * group figures summed, entries by entry time.
 */
export async function streamPage(bus: Bus, type: string, options: { cursor?: string | null; limit?: number } = {}): Promise<StreamPage> {
  const limit = Math.min(Math.max(options.limit ?? 25, 1), 100)
  const each = await eachPartition(bus, (view) => partitionStreamPage(view, type, { ...options, limit }))
  if (each.length === 1) return each[0] as StreamPage
  const names = [...new Set(each.flatMap((e) => e.groups.map((g) => g.name)))]
  const { page, cursor } = newestFirstPage(each.map((e) => e.entries), (e) => e.entryId, limit)
  return {
    type,
    length: each.reduce((n, e) => n + e.length, 0),
    groups: names.map((name) => {
      const gs = each.flatMap((e) => e.groups.filter((g) => g.name === name))
      return {
        name,
        consumers: Math.max(...gs.map((g) => g.consumers)),
        pending: gs.reduce((n, g) => n + g.pending, 0),
        lag: sumKnown(gs.map((g) => g.lag)),
        lastDeliveredId: gs.map((g) => g.lastDeliveredId).sort(compareEntryIds).pop() ?? '',
        oldestPending: gs.flatMap((g) => g.oldestPending).sort((a, b) => b.idleMs - a.idleMs).slice(0, PENDING_SHOWN),
      }
    }),
    entries: page,
    // A partition's page was cut at `limit` already: more there means more to page through.
    cursor: cursor ?? (each.some((e) => e.cursor !== null) ? (page[page.length - 1]?.entryId ?? null) : null),
  }
}

/** `streamPage` of the partition of `bus.keys` (the whole page, with one partition). */
async function partitionStreamPage(bus: Bus, type: string, options: { cursor?: string | null; limit: number }): Promise<StreamPage> {
  const key = bus.keys.stream(type)
  const limit = options.limit
  const end = options.cursor ? `(${options.cursor}` : '+'
  const [length, infos, page] = await Promise.all([
    bus.redis.xlen(key),
    bus.redis.xinfo('GROUPS', key).catch(() => [] as unknown[]) as Promise<unknown[][]>,
    bus.redis.xrevrange(key, end, '-', 'COUNT', limit + 1) as Promise<[string, string[]][]>,
  ])
  const groups = infos.map(toRecord)
  const p = bus.redis.pipeline()
  for (const g of groups) p.xpending(key, String(g.name), '-', '+', PENDING_SHOWN)
  const pendings = groups.length === 0 ? [] : ((await p.exec()) ?? [])
  return {
    type,
    length,
    groups: groups.map((g, i) => ({
      name: String(g.name),
      consumers: Number(g.consumers ?? 0),
      pending: Number(g.pending ?? 0),
      lag: g.lag === null || g.lag === undefined ? null : Number(g.lag),
      lastDeliveredId: String(g['last-delivered-id'] ?? ''),
      oldestPending: ((pendings[i]?.[1] ?? []) as [string, string, number, number][]).map(([entryId, holder, idleMs, deliveries]) => ({ entryId, holder, idleMs: Number(idleMs), deliveries: Number(deliveries) })),
    })),
    entries: page.slice(0, limit).map(([entryId, fields]) => decodeEntry(entryId, fields)),
    cursor: page.length > limit ? (page[limit - 1]?.[0] ?? null) : null,
  }
}

function decodeEntry(entryId: string, fields: readonly string[]): StreamEntry {
  try {
    const e = decodeEvent(fields)
    return { entryId, id: e.id, type: e.type, source: e.source, key: e.key, correlationId: e.correlationId, summary: summarizePayload(e.payload, 160) }
  } catch (error) {
    return { entryId, id: '', type: '', source: '', key: '', correlationId: '', summary: '', undecodable: errorMessage(error) }
  }
}
