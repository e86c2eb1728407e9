import { pack } from 'msgpackr'
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
 * Runs lua/commit.lua, the one script through which handled events take effect, and the one
 * place that packs effects into its arguments. Every key goes into KEYS once and the arguments
 * name it by position; each emit goes as its stream, the envelope's values (names are sent once
 * per call) and any extra fields. The arguments travel as ONE MessagePack array (the script
 * unpacks it with Redis's cmsgpack): a wave is thousands of small strings, and handing each to
 * the client as its own argument cost three times the Node CPU of packing them (bench/README.md).
 */
export async function runEffects(bus: Bus, call: EffectsCall): Promise<unknown[]> {
  const { keys } = bus
  const scriptKeys = [call.inbox, keys.stats(call.consumer), keys.lease(call.consumer), keys.attempts(call.consumer), keys.deadLetters(call.consumer)]
  const positions = new Map<string, number>()
  /** The key's position in KEYS (1-based, as Lua counts), adding it on first use. */
  const at = (key: string): number => {
    let position = positions.get(key)
    if (position === undefined) {
      position = scriptKeys.push(key)
      positions.set(key, position)
    }
    return position
  }
  const args: (string | number)[] = [
    keys.group(call.consumer), call.token, Date.now(), call.inboxSize, INDEX_TTL_SECONDS, call.counter,
    ENVELOPE_FIELDS.length, ...ENVELOPE_FIELDS, call.items.length,
  ]
  for (const item of call.items) {
    const { emits, writes } = item.effects
    // Every emit of one event carries the input's correlation id: one index per event.
    const index = emits[0]?.index
    args.push(item.ackStream === '' ? 0 : at(item.ackStream), item.entryId, item.attemptsField, item.deadLetterId, item.eventId, index === undefined ? 0 : at(index), emits.length, writes.length)
    for (const { stream, fields, target } of emits) {
      // Negative: an outbox entry, appended but not indexed (the relay indexes it in its target partition).
      args.push(target === undefined ? at(stream) : -at(stream))
      for (let f = 1; f < STANDARD; f += 2) args.push(fields[f] as string)
      args.push((fields.length - STANDARD) / 2)
      for (let f = STANDARD; f < fields.length; f++) args.push(fields[f] as string)
    }
    for (const write of writes) {
      args.push(write.kind, at(write.key))
      switch (write.kind) {
        case 'set': args.push(write.value); break
        case 'hset': args.push(write.field, write.value); break
        case 'hdel': args.push(write.field); break
        case 'hincrby': args.push(write.field, write.by); break
      }
    }
  }
  const packed = pack(args)
  return (await retryWhileOutOfMemory(bus, () => bus.redis.esCommit(scriptKeys.length, ...scriptKeys, packed))) as unknown[]
}
