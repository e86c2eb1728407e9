import { eachPartition } from '../../bus/across.js'
import type { Bus } from '../../bus/bus.js'
import { compareEntryIds } from '../../bus/entry-ids.js'
import { consumerStatus } from '../../bus/status.js'
import type { ConsumerDefinition } from '../../bus/types.js'
import type { Runner } from '../../bus/runner.js'
import { decodeEvent } from '../../events/envelope.js'
import { EVENT, type DeliveredPayload, type DuplicatePayload, type RejectedPayload } from '../types.js'
import { FUND_ENDINGS } from '../source.js'
import { stageFigures, type FileOutcome, type LatencyFigures, type RuntimeSnapshot, type StageFigures } from './figures.js'

/** How long the runtime key outlives its last refresh: `status` treats a missing key as "no up". */
export const RUNTIME_TTL_MS = 5_000


/**
 * The latest files delivered, rejected or reported duplicate, newest first. The first read takes
 * the last `keep` of each stream; later reads only what is new since (XRANGE from the last id).
 */
export class OutcomeFeed {
  private readonly last = new Map<string, string>()
  private rows: { entryId: string; outcome: FileOutcome }[] = []

  constructor(
    private readonly bus: Bus,
    private readonly keep = 20,
  ) {}

  async read(): Promise<FileOutcome[]> {
    // Every partition's ending streams (a pipeline each, in parallel); `last` is per stream key.
    await eachPartition(this.bus, async (view) => {
      const p = view.redis.pipeline()
      for (const type of FUND_ENDINGS) {
        const key = view.keys.stream(type)
        const after = this.last.get(key)
        if (after === undefined) p.xrevrange(key, '+', '-', 'COUNT', this.keep)
        else p.xrange(key, `(${after}`, '+', 'COUNT', 500)
      }
      const replies = (await p.exec()) ?? []
      FUND_ENDINGS.forEach((type, i) => {
        const key = view.keys.stream(type)
        const entries = (replies[i]?.[1] ?? []) as [string, string[]][]
        for (const [entryId, fields] of entries) {
          const last = this.last.get(key)
          if (last === undefined || compareEntryIds(entryId, last) > 0) this.last.set(key, entryId)
          const outcome = toOutcome(type, fields)
          if (outcome !== null) this.rows.push({ entryId, outcome })
        }
        if (!this.last.has(key)) this.last.set(key, '0-0')
      })
    })
    this.rows = this.rows.sort((a, b) => compareEntryIds(b.entryId, a.entryId)).slice(0, this.keep)
    return this.rows.map((r) => r.outcome)
  }
}

function toOutcome(type: string, fields: readonly string[]): FileOutcome | null {
  try {
    const e = decodeEvent(fields)
    const base = { at: e.occurredAt, correlationId: e.correlationId }
    if (type === EVENT.delivered) {
      const p = e.payload as DeliveredPayload
      return { ...base, fileName: p.fileName, outcome: 'delivered', detail: `${p.outputPath} (score ${p.score})` }
    }
    if (type === EVENT.rejected) {
      const p = e.payload as RejectedPayload
      const rules = [...new Set(p.reasons.map((r) => r.rule))].join(', ')
      return { ...base, fileName: p.fileName, outcome: 'rejected', detail: `${p.stage}: ${rules}` }
    }
    const p = e.payload as DuplicatePayload
    return { ...base, fileName: p.fileName, outcome: 'duplicate', detail: `copy of ${p.firstCorrelationId}` }
  } catch {
    return null // an entry this version cannot read is not worth breaking the dashboard for
  }
}

/** Turns consumer status snapshots into rates: remembers the previous handled counts. */
export class FigureCollector {
  private previous: { handled: Map<string, number>; at: number } | null = null

  constructor(
    private readonly bus: Bus,
    private readonly consumers: () => readonly ConsumerDefinition[],
    private readonly runners: () => readonly Runner[],
    private readonly now: () => number = Date.now,
  ) {}

  async collect(): Promise<StageFigures[]> {
    const status = await consumerStatus(this.bus, this.consumers())
    const latency = new Map<string, LatencyFigures>()
    for (const r of this.runners()) latency.set(r.consumer.name, r.metrics.snapshot())
    const at = this.now()
    const previous = this.previous === null ? null : { handled: this.previous.handled, elapsedMs: at - this.previous.at }
    const figures = stageFigures(status, latency, previous)
    this.previous = { handled: new Map(status.map((s) => [s.consumer, s.handled])), at }
    return figures
  }
}

/** Publishes the snapshot for other processes (`pipeline status`), expiring unless refreshed. */
export async function writeRuntime(bus: Bus, snapshot: RuntimeSnapshot): Promise<void> {
  await bus.redis.set(bus.keys.runtime, JSON.stringify(snapshot), 'PX', RUNTIME_TTL_MS)
}

/** The snapshot of a live `pipeline up` on this namespace, or null when none refreshed it lately. */
export async function readRuntime(bus: Bus): Promise<RuntimeSnapshot | null> {
  const raw = await bus.redis.get(bus.keys.runtime)
  if (raw === null) return null
  try {
    return JSON.parse(raw) as RuntimeSnapshot
  } catch {
    return null
  }
}

