import type { Bus } from './bus.js'
import type { Effects } from './context.js'
import { runEffects } from './effects.js'
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
 * Applies effects with `lua/commit.lua` (no XACK): inbox check, emits, state writes and any dead-letter
 * removal in one atomic step; an id already in `inbox` changes nothing. Throws the runtime's
 * error for a state key of the wrong type (nothing written then).
 */
export async function applyEffects(
  bus: Bus,
  consumer: string,
  options: { readonly inbox: string; readonly inboxSize: number; readonly counter: string; readonly items: readonly ApplyItem[] },
): Promise<ApplyOutcome> {
  const reply = await runEffects(bus, {
    consumer,
    inbox: options.inbox,
    token: '',
    inboxSize: options.inboxSize,
    counter: options.counter,
    items: options.items.map((item) => ({ ackStream: '', entryId: '', attemptsField: '', deadLetterId: item.deadLetterId, eventId: item.eventId, effects: item.effects })),
  })
  if (reply[0] === ScriptCode.DeadLetterGone) return { kind: 'gone', deadLetterId: String(reply[1]) }
  const error = scriptError(reply, consumer)
  if (error) throw error
  return { kind: 'applied', applied: reply[0] as number, duplicates: reply[1] as number }
}
