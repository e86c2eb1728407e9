import type { Bus } from './bus.js'
import type { Effects } from './context.js'
import { retryWhileOutOfMemory } from './pressure.js'
import { INDEX_TTL_SECONDS } from './windows.js'
import { ScriptCode, scriptError } from './scripts.js'

/** One event handled outside the consumer group, with what it asked for. */
export interface ApplyItem {
  readonly eventId: string
  /** The dead-letter entry removed in the same step ('' for none). */
  readonly deadLetterId: string
  readonly effects: Effects
}

export type ApplyOutcome =
  | { readonly kind: 'applied'; readonly applied: number; readonly duplicates: number }
  | { readonly kind: 'gone'; readonly deadLetterId: string }

/**
 * Applies effects with `lua/apply.lua`: inbox check, emits, state writes and any dead-letter
 * removal in one atomic step; an id already in `inbox` changes nothing. Throws the runtime's
 * error for a state key of the wrong type (nothing written then).
 */
export async function applyEffects(
  bus: Bus,
  consumer: string,
  options: { readonly inbox: string; readonly inboxSize: number; readonly counter: string; readonly items: readonly ApplyItem[] },
): Promise<ApplyOutcome> {
  const { keys } = bus
  const args: (string | number)[] = [
    options.inbox, keys.stats(consumer), keys.deadLetters(consumer),
    Date.now(), options.inboxSize, INDEX_TTL_SECONDS, options.counter, options.items.length,
  ]
  for (const { eventId, deadLetterId, effects } of options.items) {
    args.push(eventId, deadLetterId, effects.emits.length, effects.writes.length)
    for (const emit of effects.emits) for (const a of emit) args.push(a)
    for (const write of effects.writes) for (const a of write) args.push(a)
  }
  const reply = (await retryWhileOutOfMemory(bus, () => bus.redis.esApply(...args))) as unknown[]
  if (reply[0] === ScriptCode.DeadLetterGone) return { kind: 'gone', deadLetterId: String(reply[1]) }
  const error = scriptError(reply, consumer)
  if (error) throw error
  return { kind: 'applied', applied: reply[0] as number, duplicates: reply[1] as number }
}
