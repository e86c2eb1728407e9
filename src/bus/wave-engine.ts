import type { EventEnvelope } from '../events/envelope.js'
import { ConsumerBreaker, type BreakerPolicy, type BreakerState } from './breaker.js'
import type { Bus } from './bus.js'
import { commitBatch, recordFailure } from './commit.js'
import { WaveConflicts, footprint, formWave } from './conflicts.js'
import { HandlerContext, handlerScope, type ContextScope, type Effects } from './context.js'
import { compareEntryIds } from './entry-ids.js'
import { toHeld, type Held } from './reader.js'
import { failureKind, type FailureKind } from './failures.js'
import { decideFailure, type FailureDecision, type RetryPolicy } from './retry.js'
import type { ConsumerContext, ConsumerDefinition } from './types.js'

/** Entries as GroupReader returns them: [streamKey, [entryId, fields or null when deleted]]. */
export type ReadEntries = [string, [string, string[] | null]][]

/** A handled event and what it asks for: one item of a commit. */
export interface Handled {
  readonly held: Held
  readonly effects: Effects
}

/** One place of a wave: a head to handle, or a deferred head that sits this wave out. */
export interface WaveSlot {
  readonly held: Held
  readonly sitOut: boolean
}

/** What the engine reports as it goes: the runner counts it, the check driver tells it as a story. */
export interface WaveSink {
  /** An entry joined its key's queue (in arrival order). */
  queued?(held: Held): void
  /** A deferred head not handled this wave: it overlaps an earlier deferred one. */
  satOut?(held: Held): void
  /** A handled event put back to the next wave: it touched state an earlier event of the wave wrote. */
  deferred?(held: Held): void
  /** One event committed; `at` is the clock when its wave's commit answered. */
  committed?(held: Held, effects: Effects, at: number): void
  /** A commit's counters: events applied, and duplicates the inbox acknowledged without effect. */
  counted?(handled: number, duplicates: number): void
  /** A failed attempt was recorded; `decision` says whether it retries or was dead-lettered. */
  failed?(held: Held, error: unknown, attempts: number, decision: FailureDecision, kind: FailureKind): void
  /** The consumer's breaker opened or closed (by this instance, another, or by hand). */
  breaker?(state: BreakerState): void
}

export interface WaveEngineOptions {
  /** The lease token that fences this instance's commits and failures. */
  readonly token: string
  readonly retry: RetryPolicy
  /** Most heads handled in one wave. */
  readonly batchSize: number
  readonly inboxSize: number
  /** Highest entry id committed per stream (the reader's): where a lost group is re-created from. */
  readonly lastCommitted: Map<string, string>
  readonly now?: () => number
  readonly random?: () => number
  readonly sink?: WaveSink
  /** Over the consumer's own breaker policy (the check driver opens breakers on few events). */
  readonly breaker?: Partial<BreakerPolicy>
  /** Calls the consumer's handler (default `consumer.handle`); the check driver wraps it to count calls and inject failures. */
  readonly handle?: (event: EventEnvelope, ctx: ConsumerContext) => Promise<void> | void
  /** Runs after handling, before the commit; false abandons the wave uncommitted, as a process that died there. */
  readonly beforeCommit?: (done: readonly Handled[]) => boolean | Promise<boolean>
}

type Outcome = { ctx: HandlerContext; error?: undefined } | { ctx?: undefined; error: unknown }

/** The key whose queue an event waits in: the consumer's `orderingKey`, else the event's key. */
export function orderKeyOf(consumer: ConsumerDefinition, event: EventEnvelope): string {
  return consumer.orderingKey?.(event) ?? event.key
}

const entryKey = (h: { streamKey: string; entryId: string }) => `${h.streamKey} ${h.entryId}`

/**
 * One consumer instance's work between reading and Redis: entries held per ordering key, waves
 * of the keys' heads handled concurrently and kept serializable, each wave committed in one
 * atomic step, failures retried with backoff or dead-lettered. The runner feeds it from its read
 * loop; the check driver feeds it from a schedule, so the harness tests this very code.
 */
export class WaveEngine {
  /** Per ordering key, its entries in arrival order; the head is the only one handled. */
  private readonly queues = new Map<string, Held[]>()
  /** Every entry held or being handled, so a re-read (own pending, claims) does not hold it twice. */
  private readonly known = new Set<string>()
  private readonly scope: ContextScope
  private readonly now: () => number
  private readonly random: () => number
  private readonly sink: WaveSink
  /** Pauses the consumer when its failures are not about the events; state in Redis. */
  readonly breaker: ConsumerBreaker
  /** The entry `admit` let through as the open breaker's probe, and the one before it. */
  private probe: string | undefined
  private lastProbe: string | undefined
  /** The probe was the only head: nothing else could show the world is right again. */
  private probeAlone = false
  /** The consumer's ordering key of an event, made once (hold runs per entry read). */
  private readonly orderKey = (event: EventEnvelope): string => orderKeyOf(this.consumer, event)

  constructor(
    private readonly bus: Bus,
    private readonly consumer: ConsumerDefinition,
    private readonly options: WaveEngineOptions,
  ) {
    this.scope = handlerScope(bus, consumer.name)
    this.now = options.now ?? Date.now
    this.random = options.random ?? Math.random
    this.sink = options.sink ?? {}
    this.breaker = new ConsumerBreaker(bus, consumer, options.token, this.random, options.breaker)
  }

  /** Reads the breaker from Redis (another instance, or `pipeline pause`/`resume`, may have changed it). */
  async refreshBreaker(): Promise<BreakerState> {
    const was = this.breaker.state.open
    const state = await this.breaker.refresh()
    if (state.open !== was) this.sink.breaker?.(state)
    return state
  }

  /** Entries known: held, retrying or deferred. */
  get size(): number {
    return this.known.size
  }

  /**
   * Queues entries behind their key; unreadable ones are dead-lettered at once. `seenBefore`:
   * entries from a pending list, a claim or a rewound group may carry failed attempts already.
   */
  async hold(entries: ReadEntries, seenBefore: boolean): Promise<void> {
    const fresh: Held[] = []
    for (const [key, entry] of entries) {
      const id = `${key} ${entry[0]}`
      if (this.known.has(id)) continue
      this.known.add(id)
      fresh.push(toHeld(this.bus, key, entry, this.orderKey))
    }
    if (fresh.length === 0) return
    if (seenBefore) {
      const counts = await this.bus.redis.hmget(this.bus.keys.attempts(this.consumer.name), ...fresh.map(entryKey))
      fresh.forEach((h, i) => {
        h.failures = Number(counts[i] ?? 0)
      })
    }
    for (const h of fresh) {
      if (h.invalid !== undefined) await this.fail(h, new Error(h.invalid), true)
      else {
        const q = this.queues.get(h.orderKey)
        if (q) q.push(h)
        else this.queues.set(h.orderKey, [h])
        this.sink.queued?.(h)
      }
    }
  }

  /** The head of every key's queue whose retry time has come (all of them by default), in queue order. */
  heads(due = Number.POSITIVE_INFINITY): Held[] {
    const heads: Held[] = []
    for (const q of this.queues.values()) {
      const head = q[0] as Held
      if (head.notBefore <= due) heads.push(head)
    }
    return heads
  }

  /** The next wave: the heads due now, with sit-outs for deferred heads that would only defer again. */
  readyWave(): WaveSlot[] {
    const now = this.now()
    return this.wave(this.admit(this.heads(now), now))
  }

  /**
   * What the breaker lets through of these heads: all while closed; while open, one head (the
   * probe) once the probe is due at `now`, else none. Entries held meanwhile stay pending in
   * Redis, uncommitted and unhandled, in their keys' order.
   */
  admit(heads: readonly Held[], now: number): readonly Held[] {
    this.probe = undefined
    if (!this.breaker.state.open) return heads
    if (!this.breaker.probeDue(now) || heads.length === 0) return []
    // An event that failed tells best whether the world is right again; not the same one twice
    // in a row, so one poison event (a plain error) cannot keep a paused consumer paused.
    const others = heads.filter((h) => entryKey(h) !== this.lastProbe)
    const probe = others.find((h) => h.failures > 0 || (h.transientFailures ?? 0) > 0) ?? others[0] ?? (heads[0] as Held)
    this.probe = entryKey(probe)
    this.lastProbe = this.probe
    this.probeAlone = heads.length === 1
    return [probe]
  }

  /** A wave of the given heads (see `formWave`). */
  wave(heads: readonly Held[]): WaveSlot[] {
    return formWave(heads, this.options.batchSize)
  }

  /** When the earliest head is due (Infinity when nothing is held). */
  nextDue(): number {
    let due = Number.POSITIVE_INFINITY
    for (const q of this.queues.values()) due = Math.min(due, (q[0] as Held).notBefore)
    return Math.max(due, this.breaker.nextProbeAt())
  }

  /** Drops everything held (the lease or the group was lost); returns what was held. */
  forget(): Held[] {
    const held = [...this.queues.values()].flat()
    this.queues.clear()
    this.known.clear()
    return held
  }

  /**
   * Handles a wave concurrently, keeps it serializable (see WaveConflicts), commits what may
   * commit in one step and records the failures. False when `beforeCommit` abandoned it.
   */
  async run(wave: readonly WaveSlot[]): Promise<boolean> {
    const outcomes = await Promise.all(wave.map((w) => (w.sitOut ? undefined : this.handleOne(w.held))))
    const done: Handled[] = []
    const failed: { held: Held; error: unknown }[] = []
    // In wave order: an event that touched what an earlier one wrote (or what an earlier,
    // deferred one touched) waits for the next wave.
    const conflicts = new WaveConflicts()
    outcomes.forEach((outcome, i) => {
      const held = (wave[i] as WaveSlot).held
      if (outcome === undefined) {
        conflicts.block(held.footprint ?? [])
        this.sink.satOut?.(held)
      } else if (outcome.ctx === undefined) failed.push({ held, error: outcome.error })
      else if (!conflicts.defer(outcome.ctx.reads, outcome.ctx.effects)) done.push({ held, effects: outcome.ctx.effects })
      else {
        held.footprint = footprint(outcome.ctx.reads, outcome.ctx.effects)
        this.sink.deferred?.(held)
      }
    })
    if (this.options.beforeCommit && !(await this.options.beforeCommit(done))) return false
    if (done.length > 0) {
      const outcome = await commitBatch(this.bus, this.consumer.name, this.options.token, done, this.options.inboxSize)
      const at = this.now()
      for (const { held, effects } of outcome.committed) {
        this.release(held)
        const last = this.options.lastCommitted.get(held.streamKey)
        if (last === undefined || compareEntryIds(held.entryId, last) > 0) this.options.lastCommitted.set(held.streamKey, held.entryId)
        this.sink.committed?.(held, effects, at)
      }
      this.sink.counted?.(outcome.handled, outcome.duplicates)
      if (outcome.committed.length > 0) await this.noteCommits(outcome.committed, at)
      if (outcome.stale > 0) {
        this.bus.warn(`consumer ${this.consumer.name}: ${outcome.stale} entries it held are no longer pending in Redis (Redis lost writes?); nothing was applied for them`)
      }
      for (const { held, error } of outcome.rejected) failed.push({ held, error })
    }
    for (const { held, error } of failed) await this.fail(held, error, false)
    return true
  }

  /** Commits reset the failures in a row; a committed probe closes the breaker. */
  private async noteCommits(committed: readonly { readonly held: Held }[], at: number): Promise<void> {
    const wasOpen = this.breaker.state.open
    const recovered = committed.some(({ held }) => held.failures > 0 || (held.transientFailures ?? 0) > 0)
    // No probe while closed (the usual case): no key string built per committed event.
    const probeCommitted = this.probe !== undefined && committed.some(({ held }) => entryKey(held) === this.probe)
    await this.breaker.committed(committed.length, at, probeCommitted, recovered)
    if (wasOpen && !this.breaker.state.open) this.sink.breaker?.(this.breaker.state)
  }

  private async handleOne(held: Held): Promise<Outcome> {
    const event = held.event as EventEnvelope
    // Every try counts for the handler, transient ones too (they count no attempt toward the dead letters).
    const ctx = new HandlerContext(this.scope, event, held.failures + (held.transientFailures ?? 0) + 1)
    try {
      await (this.options.handle ? this.options.handle(event, ctx) : this.consumer.handle(event, ctx))
      return { ctx }
    } catch (error) {
      return { error }
    }
  }

  /** Takes a committed or dead-lettered entry off its key's queue: the next one becomes the head. */
  private release(h: Held): void {
    this.known.delete(entryKey(h))
    const q = this.queues.get(h.orderKey)
    if (q && q[0] === h) {
      q.shift()
      if (q.length === 0) this.queues.delete(h.orderKey)
    }
  }

  /**
   * The failure decision, in one place: poison (and an unreadable entry) goes to the dead
   * letters now; transient and plain failures count toward the breaker; while it is open, a
   * failure counts no attempt (nothing is dead-lettered while the consumer is paused), but for
   * a plain-error probe that was the only head: it keeps the plain meaning (3 attempts), so a
   * poison event left alone cannot hold the consumer paused for good.
   */
  private async fail(h: Held, error: unknown, unreadable: boolean): Promise<void> {
    const thrown = unreadable ? 'poison' : failureKind(error)
    const wasOpen = this.breaker.state.open
    const probe = entryKey(h) === this.probe
    const open = await this.breaker.failed(entryKey(h), thrown, error, this.now(), probe)
    if (open && !wasOpen) this.sink.breaker?.(this.breaker.state)
    const kind: FailureKind = thrown === 'plain' && open && !(probe && this.probeAlone) ? 'transient' : thrown
    const result = await recordFailure(this.bus, this.consumer.name, this.options.token, h, error, kind, this.options.retry)
    if (kind === 'transient') h.transientFailures = (h.transientFailures ?? 0) + 1
    else h.transientFailures = 0
    const decision = decideFailure(this.options.retry, { ...result, kind, transientFailures: h.transientFailures }, this.random)
    if (decision.kind === 'dead-letter') {
      this.known.delete(entryKey(h))
      // An unreadable entry was never queued.
      if (h.event) this.release(h)
    } else {
      h.failures = result.attempts
      h.notBefore = this.now() + decision.delayMs
    }
    this.sink.failed?.(h, error, result.attempts, decision, kind)
  }
}
