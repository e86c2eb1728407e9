import { entryTime } from '../bus/entry-ids.js'
import type { Bus } from '../bus/index.js'
import type { ScriptClient } from '../bus/scripts.js'
import { decodeEvent, type EventEnvelope } from '../events/index.js'
import { EVENT, type DuplicatePayload, type RejectedPayload, type ScoredPayload } from '../pipeline/types.js'
import { FUND_ENDINGS } from '../pipeline/source.js'
import { distinctSorted, type Actual } from './outcome.js'

/** How one file's journey ended, as its terminal event says. */
export interface Ending {
  readonly correlationId: string
  /** Redis append time of the terminal event (ms since the epoch). */
  readonly atMs: number
  readonly type: string
  readonly payload: unknown
}


/**
 * Follows the terminal streams (delivered, rejected, duplicate) and the scored stream from the
 * start of a fresh namespace, with its own blocking connection, so the driver learns each
 * file's ending and its quality flags without touching any consumer group.
 */
export class JourneyObserver {
  private readonly conn: ScriptClient
  private readonly cursors = new Map<string, string>()
  readonly endings = new Map<string, Ending>()
  readonly flags = new Map<string, string[]>()
  /** Terminal events seen per file: more than one means a journey ended twice. */
  readonly endingCounts = new Map<string, number>()
  private readonly published = new Set<string>()
  /** Files the driver published whose journey has ended (endings of anything else, e.g. poison, are not counted). */
  ended = 0
  private running = true
  private loop: Promise<void> | null = null
  private waiters: (() => void)[] = []

  /** The scored stream of every partition. */
  private readonly scored = new Set<string>()

  constructor(private readonly bus: Bus) {
    this.conn = bus.connect()
    for (const keys of bus.partitions) {
      for (const type of [...FUND_ENDINGS, EVENT.scored]) this.cursors.set(keys.stream(type), '0')
      this.scored.add(keys.stream(EVENT.scored))
    }
  }

  /** A file the driver published: only these count towards `ended`. */
  expect(correlationId: string): void {
    if (this.published.has(correlationId)) return
    this.published.add(correlationId)
    if (this.endings.has(correlationId)) this.ended++
  }

  start(): void {
    this.loop = this.run()
  }

  /** Resolves after the next read (or at once when stopped). */
  tick(): Promise<void> {
    if (!this.running) return Promise.resolve()
    return new Promise((resolve) => this.waiters.push(resolve))
  }

  private async run(): Promise<void> {
    // One read per partition (its streams share a slot); the block split between them.
    const block = Math.max(1, Math.floor(20 / this.bus.partitionCount))
    while (this.running) {
      for (const partition of this.bus.partitions) {
        const keys = [...this.cursors.keys()].filter((k) => k.startsWith(partition.prefix))
        const reply = (await this.conn.xread('COUNT', 5000, 'BLOCK', block, 'STREAMS', ...keys, ...keys.map((k) => this.cursors.get(k) ?? '0'))) as
          | [string, [string, string[]][]][]
          | null
        for (const [stream, entries] of reply ?? []) {
          for (const [id, fields] of entries) this.take(stream, id, fields)
          const last = entries[entries.length - 1]
          if (last !== undefined) this.cursors.set(stream, last[0])
        }
      }
      const waiters = this.waiters
      this.waiters = []
      for (const wake of waiters) wake()
    }
  }

  private take(stream: string, id: string, fields: string[]): void {
    let event: EventEnvelope
    try {
      event = decodeEvent(fields)
      if (this.scored.has(stream)) {
        this.flags.set(event.correlationId, distinctSorted((event.payload as ScoredPayload).flags.map((f) => f.rule)))
        return
      }
    } catch {
      // Not an event of ours (a chaos run's poison): the stages dead-letter it; no file ends here.
      return
    }
    this.endingCounts.set(event.correlationId, (this.endingCounts.get(event.correlationId) ?? 0) + 1)
    if (this.endings.has(event.correlationId)) return
    this.endings.set(event.correlationId, { correlationId: event.correlationId, atMs: entryTime(id), type: event.type, payload: event.payload })
    if (this.published.has(event.correlationId)) this.ended++
  }

  async stop(): Promise<void> {
    this.running = false
    await this.loop
    for (const wake of this.waiters) wake()
    this.waiters = []
    this.conn.disconnect()
  }
}

/** The observed outcome of a file, given its ending and the scored flags. */
export function actualOf(ending: Ending | undefined, flags: readonly string[] | undefined, nameOf: (correlationId: string) => string): Actual {
  if (ending === undefined) return { outcome: 'missing' }
  if (ending.type === EVENT.delivered) return { outcome: 'delivered', flags: flags ?? [] }
  if (ending.type === EVENT.rejected) {
    const p = ending.payload as RejectedPayload
    return { outcome: 'rejected', stage: p.stage, rules: distinctSorted(p.reasons.map((r) => r.rule)) }
  }
  const p = ending.payload as DuplicatePayload
  return { outcome: 'duplicate', of: nameOf(p.firstCorrelationId) }
}
