import { ENVELOPE_FIELDS } from '../events/envelope.js'
import type { Bus } from './bus.js'
import type { Effects } from './context.js'
import { retryWhileOutOfMemory } from './pressure.js'
import { INDEX_TTL_SECONDS } from './windows.js'

/** One handled event for lua/commit.lua, with its bookkeeping. */
export interface EffectsItem {
  /** Stream key to XACK the entry in ('' when the entry is not read through a group). */
  readonly ackStream: string
  readonly entryId: string
  /** The consumer's attempts field to clear ('' when it never failed). */
  readonly attemptsField: string
  /** Dead-letter entry removed in the same step ('' for none); checked to exist first. */
  readonly deadLetterId: string
  readonly eventId: string
  readonly effects: Effects
}

export interface EffectsCall {
  readonly consumer: string
  readonly inbox: string
  readonly token: string
  readonly inboxSize: number
  readonly counter: string
  readonly items: readonly EffectsItem[]
}

const STANDARD = ENVELOPE_FIELDS.length * 2

/**
 * Runs lua/commit.lua, the one script through which handled events take effect. Each emit goes
 * as its stream key, the envelope's values (names are sent once per call) and any extra fields,
 * about half the arguments of name-value pairs: argument handling is much of a commit's cost.
 */
export async function runEffects(bus: Bus, call: EffectsCall): Promise<unknown[]> {
  const { keys } = bus
  const args: (string | number)[] = [
    call.inbox, keys.stats(call.consumer), keys.lease(call.consumer), keys.attempts(call.consumer), keys.deadLetters(call.consumer),
    keys.group(call.consumer), call.token, Date.now(), call.inboxSize, INDEX_TTL_SECONDS, call.counter,
    ENVELOPE_FIELDS.length, ...ENVELOPE_FIELDS, call.items.length,
  ]
  for (const item of call.items) {
    const { emits, writes } = item.effects
    // Every emit of one event carries the input's correlation id: one index key per event.
    const corrKey = emits[0]?.[1] ?? ''
    args.push(item.ackStream, item.entryId, item.attemptsField, item.deadLetterId, item.eventId, corrKey, emits.length, writes.length)
    // An emit is [streamKey, corrKey, type, nFields, name, value, ...] with the envelope first.
    for (const emit of emits) {
      args.push(emit[0] as string)
      for (let f = 5; f < 4 + STANDARD; f += 2) args.push(emit[f] as string)
      args.push((emit.length - 4 - STANDARD) / 2)
      for (let f = 4 + STANDARD; f < emit.length; f++) args.push(emit[f] as string)
    }
    for (const write of writes) for (const a of write) args.push(a)
  }
  return (await retryWhileOutOfMemory(bus, () => bus.redis.esCommit(...args))) as unknown[]
}
