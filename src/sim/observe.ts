import { setTimeout as sleep } from 'node:timers/promises'
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

  /** Each partition's streams (one XREAD each: on a cluster a partition is one slot, two partitions are two). */
  private readonly byPartition: string[][]
  private readonly scoredStreams: Set<string>

  constructor(private readonly bus: Bus) {
    this.conn = bus.connect()
    const types = [...FUND_ENDINGS, EVENT.scored]
    this.byPartition = bus.partitions.map((keys) => types.map((type) => keys.stream(type)))
    this.scoredStreams = new Set(bus.partitions.map((keys) => keys.stream(EVENT.scored)))
    for (const stream of this.byPartition.flat()) this.cursors.set(stream, '0')
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
    // One partition blocks as before; with several, each is read without blocking (a blocking read
    // holds its node's connection) and the loop rests when none had anything.
    const blockMs = this.byPartition.length === 1 ? 20 : 0
    type Reply = [string, [string, string[]][]][] | null
    while (this.running) {
      const replies = await Promise.all(this.byPartition.map((keys) => {
        const cursors = keys.map((k) => this.cursors.get(k) ?? '0')
        return (blockMs > 0 ? this.conn.xread('COUNT', 5000, 'BLOCK', blockMs, 'STREAMS', ...keys, ...cursors) : this.conn.xread('COUNT', 5000, 'STREAMS', ...keys, ...cursors)) as Promise<Reply>
      }))
      for (const [stream, entries] of replies.flatMap((reply) => reply ?? [])) {
        for (const [id, fields] of entries) this.take(stream, id, fields)
        const last = entries[entries.length - 1]
        if (last !== undefined) this.cursors.set(stream, last[0])
      }
      if (blockMs === 0 && replies.every((reply) => reply === null)) await sleep(20)
      const waiters = this.waiters
      this.waiters = []
      for (const wake of waiters) wake()
    }
  }

  private take(stream: string, id: string, fields: string[]): void {
    let event: EventEnvelope
    try {
      event = decodeEvent(fields)
      if (this.scoredStreams.has(stream)) {
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
