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
    args.push(item.ackStream, item.entryId, item.attemptsField, item.deadLetterId, item.eventId, emits[0]?.index ?? '', emits.length, writes.length)
    for (const { stream, fields } of emits) {
      args.push(stream)
      for (let f = 1; f < STANDARD; f += 2) args.push(fields[f] as string)
      args.push((fields.length - STANDARD) / 2)
      for (let f = STANDARD; f < fields.length; f++) args.push(fields[f] as string)
    }
    for (const write of writes) {
      args.push(write.kind, write.key)
      switch (write.kind) {
        case 'set': args.push(write.value); break
        case 'hset': args.push(write.field, write.value); break
        case 'hdel': args.push(write.field); break
        case 'hincrby': args.push(write.field, write.by); break
      }
    }
  }
  return (await retryWhileOutOfMemory(bus, () => bus.redis.esCommit(...args))) as unknown[]
}
