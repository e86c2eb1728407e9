import { setTimeout as sleep } from 'node:timers/promises'
import type { EventEnvelope } from '../events/envelope.js'
import { errorMessage } from '../errors.js'
import { applyEffects, type ApplyItem } from './apply.js'
import type { Bus } from './bus.js'
import { WaveConflicts, footprint, formWave } from './conflicts.js'
import { HandlerContext, handlerScope, type Effects } from './context.js'
import type { Keys } from './keys.js'
import { toHeld, type Held } from './reader.js'
import { replayContext } from './replay-context.js'
import type { ConsumerDefinition } from './types.js'
import { orderKeyOf } from './wave-engine.js'

type RawEntry = [id: string, fields: string[]]

/** What applying entries outside the consumer group added up to. */
export interface ApplyTally {
  applied: number
  alreadyApplied: number
  invalid: number
  failed: number
  readonly failures: { readonly stream: string; readonly entryId: string; readonly eventId: string; readonly error: string }[]
  readonly emitted: Record<string, number>
}

export function emptyTally(): ApplyTally {
  return { applied: 0, alreadyApplied: 0, invalid: 0, failed: 0, failures: [], emitted: {} }
}

export interface ApplyRun {
  readonly consumer: ConsumerDefinition
  readonly runId: string
  /** The run's own inbox: ids it applied, so a resumed run applies none twice. */
  readonly inbox: string
  /** Stats field counting applied events. */
  readonly counter: string
  /** Where the handler's state names lead: the live keys (a replay) or the shadow keys (an online rebuild). */
  readonly keys?: Keys
  readonly beforeCommit?: ((events: readonly EventEnvelope[]) => void | Promise<void>) | undefined
}

const ATTEMPTS = 3

/**
 * Runs a consumer over entries read outside its group (replay, rebuild), in their order with
 * per-key order kept: the runner's serializable waves, each committed by `lua/commit.lua` with
 * the run's own inbox.
 */
export async function applyEntries(bus: Bus, run: ApplyRun, chunk: readonly { key: string; entry: RawEntry }[], tally: ApplyTally): Promise<void> {
  const { consumer } = run
  const orderKey = (e: EventEnvelope) => orderKeyOf(consumer, e)
  const held: Held[] = []
  for (const { key, entry } of chunk) {
    const h = toHeld(bus, key, entry, orderKey)
    if (h.event) held.push(h)
    else tally.invalid++
  }
  const seen = held.length === 0 ? [] : await bus.redis.zmscore(run.inbox, ...held.map((h) => (h.event as EventEnvelope).id))
  const queues = new Map<string, Held[]>()
  held.forEach((h, i) => {
    if (seen[i] !== null && seen[i] !== undefined) return void tally.alreadyApplied++
    const q = queues.get(h.orderKey)
    if (q) q.push(h)
    else queues.set(h.orderKey, [h])
  })
  // Waves: the head of each key's queue, handled together; the next wave sees their commits.
  while (queues.size > 0) {
    // The same stream-order serializable waves as the runner (see conflicts.ts).
    const wave = formWave([...queues.values()].map((q) => q[0] as Held), Number.POSITIVE_INFINITY)
    const items: ApplyItem[] = []
    const events: EventEnvelope[] = []
    const results = await Promise.all(wave.map((w) => (w.sitOut ? undefined : handleWithRetries(bus, run, w.held.event as EventEnvelope))))
    const conflicts = new WaveConflicts()
    const finished = (h: Held) => queues.get(h.orderKey)?.shift()
    results.forEach((result, i) => {
      const h = (wave[i] as { held: Held }).held
      const event = h.event as EventEnvelope
      if (result === undefined) conflicts.block(h.footprint ?? [])
      else if (!result.ok) {
        finished(h)
        tally.failed++
        if (tally.failures.length < 20) tally.failures.push({ stream: h.streamKey.slice(bus.keys.stream('').length), entryId: h.entryId, eventId: event.id, error: result.error })
      } else if (conflicts.defer(result.reads, result.effects)) {
        h.footprint = footprint(result.reads, result.effects) // stays at the head of its queue
      } else {
        finished(h)
        items.push({ eventId: event.id, deadLetterId: '', effects: result.effects })
        events.push(event)
      }
    })
    for (const [k, q] of queues) if (q.length === 0) queues.delete(k)
    if (items.length === 0) continue
    if (run.beforeCommit) await run.beforeCommit(events)
    const outcome = await applyEffects(bus, consumer.name, { inbox: run.inbox, inboxSize: 0, counter: run.counter, items })
    if (outcome.kind === 'applied') {
      tally.applied += outcome.applied
      tally.alreadyApplied += outcome.duplicates
    }
    for (const { effects } of items) for (const { type } of effects.emits) tally.emitted[type] = (tally.emitted[type] ?? 0) + 1
  }
}

async function handleWithRetries(bus: Bus, run: ApplyRun, event: EventEnvelope): Promise<{ ok: true; effects: Effects; reads: readonly string[] } | { ok: false; error: string }> {
  const { consumer } = run
  let error: unknown
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const inner = new HandlerContext(handlerScope(bus, consumer.name, run.keys), event, attempt)
    try {
      await consumer.handle(event, replayContext(inner, event, run.runId))
      return { ok: true, effects: inner.effects, reads: inner.reads }
    } catch (e) {
      error = e
      if (attempt < ATTEMPTS) await sleep(50 * attempt)
    }
  }
  return { ok: false, error: errorMessage(error) }
}
