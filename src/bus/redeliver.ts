import { decodeEvent, type EventEnvelope } from '../events/envelope.js'
import { EventspineError, errorMessage } from '../errors.js'
import { applyEffects } from './apply.js'
import { partitionBus, type Bus } from './bus.js'
import { HandlerContext, handlerScope, type Effects } from './context.js'
import { deadLetterConsumers, deadLetterId, findDeadLetter, newestDeadLetterId, readPartitionDeadLetters, type DeadLetter } from './dead-letters.js'
import { retryWhileOutOfMemory } from './pressure.js'
import { DEFAULT_INBOX_SIZE, INDEX_TTL_SECONDS } from './windows.js'
import { ScriptCode } from './scripts.js'
import type { ConsumerDefinition } from './types.js'

export interface RedeliverOptions {
  /** The consumers whose handlers re-deliveries run (e.g. `pipelineConsumers(...)`). */
  readonly consumers: readonly ConsumerDefinition[]
  /** Dead letters to re-deliver (`<consumer>:<entry id>`, or a bare entry id). */
  readonly ids?: readonly string[]
  /** Every dead letter (of `consumer` when given). */
  readonly all?: boolean
  readonly consumer?: string
  /** Event ids kept in the consumer's inbox (as its runner keeps them). Default: the runner's default. */
  readonly inboxSize?: number
}

export type RedeliveryOutcome =
  /** Handled and committed; its dead letter is gone. */
  | { readonly id: string; readonly outcome: 'delivered'; readonly eventId: string; readonly emitted: number }
  /** Its event id was already in the consumer's inbox: nothing applied, the dead letter removed. */
  | { readonly id: string; readonly outcome: 'duplicate'; readonly eventId: string }
  /** Failed again: the dead letter stays, replaced by one carrying the new error. */
  | { readonly id: string; readonly outcome: 'failed'; readonly newId: string; readonly error: string }
  /** Not attempted (no such consumer here, no event to re-deliver, or gone meanwhile). */
  | { readonly id: string; readonly outcome: 'skipped'; readonly reason: string }

export interface RedeliverySummary {
  readonly delivered: number
  readonly duplicates: number
  readonly failed: number
  readonly skipped: number
  readonly results: readonly RedeliveryOutcome[]
}

/**
 * Re-delivers dead letters to the consumer that dead-lettered them: runs its handler on the
 * original event and applies the effects atomically with the removal of the dead-letter entry
 * (`lua/commit.lua`), so an entry disappears only once its re-delivery is committed. The
 * consumer's own inbox makes a second re-delivery of the same event a no-op. Dead letters are
 * taken oldest first, one at a time, each in its own partition (partition after partition).
 */
export async function redeliverDeadLetters(bus: Bus, options: RedeliverOptions): Promise<RedeliverySummary> {
  if (!options.all && (options.ids ?? []).length === 0) {
    throw new EventspineError('E_DLQ_NOTHING_CHOSEN', 'no dead letters chosen', { hint: 'Pass dead-letter ids, or --all (with --consumer to limit it to one consumer).' })
  }
  const byName = new Map(options.consumers.map((c) => [c.name, c]))
  const results: RedeliveryOutcome[] = []
  const one = async (dead: DeadLetter) => {
    const consumer = byName.get(dead.consumer)
    if (!consumer) results.push({ id: dead.id, outcome: 'skipped', reason: `no consumer named ${dead.consumer} here: its handler is needed to re-deliver` })
    else results.push(await redeliverOne(partitionBus(bus, dead.partition ?? 0), consumer, dead, options.inboxSize ?? DEFAULT_INBOX_SIZE))
  }
  if (options.all) {
    // Page by page, up to the newest entry at the start: one that fails again is re-added at
    // the end and must not be met a second time.
    const names = options.consumer === undefined ? await deadLetterConsumers(bus) : [options.consumer]
    for (let p = 0; p < bus.partitionCount; p++) {
      const view = partitionBus(bus, p)
      for (const name of names) {
        const to = await newestDeadLetterId(view, name)
        if (to !== null) for await (const dead of readPartitionDeadLetters(view, name, { to })) await one(dead)
      }
    }
  } else {
    // All found first: a wrong id fails the command before anything is re-delivered.
    const chosen: DeadLetter[] = []
    for (const ref of options.ids ?? []) chosen.push(await findDeadLetter(bus, ref))
    for (const dead of chosen) await one(dead)
  }
  const count = (o: RedeliveryOutcome['outcome']) => results.filter((r) => r.outcome === o).length
  return { delivered: count('delivered'), duplicates: count('duplicate'), failed: count('failed'), skipped: count('skipped'), results }
}

async function redeliverOne(bus: Bus, consumer: ConsumerDefinition, dead: DeadLetter, inboxSize: number): Promise<RedeliveryOutcome> {
  if (dead.originalFields.length === 0) return { id: dead.id, outcome: 'skipped', reason: dead.undecodable ?? 'no event' }
  let event: EventEnvelope
  let effects: Effects
  try {
    // As a runner reads it: decode, validate against the contract, upcast.
    const raw = decodeEvent(dead.originalFields, `dead letter ${dead.id}`)
    bus.contracts.validate(raw.type, raw.version, raw.payload, `dead letter ${dead.id}`)
    event = bus.contracts.upcast(raw)
    const ctx = new HandlerContext(handlerScope(bus, consumer.name), event, dead.attempts + 1)
    await consumer.handle(event, ctx)
    effects = ctx.effects
  } catch (error) {
    return refail(bus, dead, error)
  }
  const outcome = await applyEffects(bus, consumer.name, {
    inbox: bus.keys.inbox(consumer.name),
    inboxSize,
    counter: 'deadLettersReplayed',
    items: [{ eventId: event.id, deadLetterId: dead.entryId, effects }],
  })
  if (outcome.kind === 'gone') return { id: dead.id, outcome: 'skipped', reason: 'gone: replayed or purged by someone else meanwhile' }
  if (outcome.applied === 0) return { id: dead.id, outcome: 'duplicate', eventId: event.id }
  return { id: dead.id, outcome: 'delivered', eventId: event.id, emitted: effects.emits.length }
}

/** Replaces the dead letter by one with the new error (same original fields), atomically. */
async function refail(bus: Bus, dead: DeadLetter, error: unknown): Promise<RedeliveryOutcome> {
  const message = errorMessage(error)
  const fields = [
    'attempts', String(dead.attempts + 1),
    'error', message,
    'stack', error instanceof Error && error.stack ? error.stack.split('\n').slice(0, 6).join('\n') : '',
    'stream', dead.stream,
    'entryId', dead.sourceEntryId,
    'consumer', dead.consumer,
    'failedAt', new Date().toISOString(),
    ...dead.originalFields,
  ]
  // An event that could not be decoded has no correlation, so no index row.
  const keys = dead.event ? [bus.keys.deadLetters(dead.consumer), bus.keys.correlation(dead.event.correlationId)] : [bus.keys.deadLetters(dead.consumer)]
  const reply = (await retryWhileOutOfMemory(bus, () =>
    bus.redis.esRefail(keys.length, ...keys, dead.entryId, INDEX_TTL_SECONDS, dead.consumer, fields.length / 2, ...fields),
  )) as unknown[]
  if (reply[0] === ScriptCode.DeadLetterGone) return { id: dead.id, outcome: 'skipped', reason: 'gone: replayed or purged by someone else meanwhile' }
  return { id: dead.id, outcome: 'failed', newId: deadLetterId(dead.consumer, String(reply[0]), bus.keys), error: message }
}
