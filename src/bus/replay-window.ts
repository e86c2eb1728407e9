import { EventspineError } from '../errors.js'
import type { Bus } from './bus.js'
import { compareEntryIds } from './entry-ids.js'

type RawEntry = [id: string, fields: string[]]

/** Where a replay reads one stream: entry ids, both inclusive. */
export interface StreamBounds {
  readonly from: string
  readonly to: string
}

/** What the user asked for; `since` already in milliseconds. */
export interface WindowRequest {
  readonly since?: number
  /** A stream entry id (`1764086400000-0` or `1764086400000`) or an ISO-8601 time. */
  readonly from?: string
  readonly to?: string
}

/** Turns a `--from`/`--to` value into a stream entry id bound. */
export function toEntryBound(text: string, flag: string): string {
  if (/^\d+(-\d+)?$/.test(text)) return text
  const time = Date.parse(text)
  if (Number.isNaN(time)) {
    throw new EventspineError('E_REPLAY_BAD_BOUND', `${flag} "${text}" is neither a stream entry id nor a date`, {
      hint: 'Use an entry id such as 1764086400000-0 (what `pipeline tail` shows) or an ISO time such as 2026-11-24T00:00:00Z.',
    })
  }
  return String(time)
}

/** A window (`--since`, else `--from`/`--to`) as entry-id bounds for XRANGE, "now" being Redis's clock. */
export function windowIds(request: { readonly since?: number | undefined; readonly from?: string | undefined; readonly to?: string | undefined }, now: number): { from: string; to: string } {
  return {
    from: request.since !== undefined ? String(Math.max(0, now - request.since)) : request.from !== undefined ? toEntryBound(request.from, '--from') : '-',
    to: request.to !== undefined ? toEntryBound(request.to, '--to') : '+',
  }
}

/**
 * Resolves a window to fixed entry-id bounds per stream, at the time of asking: the upper bound
 * is each stream's last entry now, so events published during the replay are left to the live
 * consumer, and a resumed replay reads exactly the same window. Bounds are the first and last
 * entries inside the window (their times drive the progress estimate); empty streams are left out.
 */
export async function resolveBounds(bus: Bus, types: readonly string[], request: WindowRequest, now: number): Promise<Record<string, StreamBounds>> {
  const { from: lower, to: upper } = windowIds(request, now)
  const out: Record<string, StreamBounds> = {}
  for (const type of types) {
    const key = bus.keys.stream(type)
    const [last] = (await bus.redis.xrevrange(key, upper, lower, 'COUNT', 1)) as RawEntry[]
    const [first] = (await bus.redis.xrange(key, lower, upper, 'COUNT', 1)) as RawEntry[]
    if (first && last) out[type] = { from: first[0], to: last[0] }
  }
  return out
}

/**
 * Reads several streams over their bounds as one sequence in entry-id order (ties broken by
 * stream name), a page per stream at a time. Entry ids are publish times, so the merge is the
 * order in which the events were appended.
 */
export class MergedRange {
  private readonly cursors: { type: string; key: string; next: string; to: string; page: RawEntry[]; at: number; done: boolean }[]

  constructor(
    private readonly bus: Bus,
    bounds: Readonly<Record<string, StreamBounds>>,
    private readonly pageSize: number,
  ) {
    this.cursors = Object.entries(bounds)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([type, b]) => ({ type, key: bus.keys.stream(type), next: b.from, to: b.to, page: [], at: 0, done: false }))
  }

  /** Up to `count` entries, in order; an empty array when all streams are read. */
  async take(count: number): Promise<{ type: string; key: string; entry: RawEntry }[]> {
    const out: { type: string; key: string; entry: RawEntry }[] = []
    while (out.length < count) {
      let best: (typeof this.cursors)[number] | undefined
      for (const c of this.cursors) {
        if (c.at >= c.page.length && !c.done) await this.fill(c)
        if (c.at >= c.page.length) continue
        if (!best || compareEntryIds((c.page[c.at] as RawEntry)[0], (best.page[best.at] as RawEntry)[0]) < 0) best = c
      }
      if (!best) break
      out.push({ type: best.type, key: best.key, entry: best.page[best.at++] as RawEntry })
    }
    return out
  }

  private async fill(c: (typeof this.cursors)[number]): Promise<void> {
    const page = (await this.bus.redis.xrange(c.key, c.next, c.to, 'COUNT', this.pageSize)) as RawEntry[]
    c.page = page
    c.at = 0
    if (page.length < this.pageSize) c.done = true
    if (page.length > 0) c.next = `(${(page[page.length - 1] as RawEntry)[0]}`
  }
}


