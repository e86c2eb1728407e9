import type { Bus } from '../../bus/index.js'
import { encodeEvent, newCorrelationId, newEventId, type EventEnvelope } from '../../events/index.js'

/** A poison entry appended to a stream: every group reading that stream must dead-letter it. */
export interface PoisonEntry {
  readonly type: string
  readonly stream: string
  readonly entryId: string
}

/**
 * Appends `count` entries no consumer can handle, spread over `types`, as a broken producer
 * would (straight XADD, no contract check): alternately fields that are not an event at all,
 * and a well-formed envelope whose payload breaks its contract.
 */
export async function injectPoison(bus: Bus, count: number, types: readonly string[]): Promise<PoisonEntry[]> {
  const p = bus.redis.pipeline()
  const planned: { type: string; stream: string }[] = []
  for (let i = 0; i < count; i++) {
    const type = types[i % types.length] as string
    const stream = bus.keys.stream(type)
    planned.push({ type, stream })
    if (i % 2 === 0) p.xadd(stream, '*', 'poison', `chaos entry ${i}: not an event`)
    else p.xadd(stream, '*', ...encodeEvent(poisonEvent(type, i)))
  }
  const replies = (await p.exec()) ?? []
  return planned.map((entry, i) => {
    const [error, id] = replies[i] ?? [new Error('no reply'), null]
    if (error) throw error
    return { ...entry, entryId: String(id) }
  })
}

function poisonEvent(type: string, i: number): EventEnvelope {
  const correlationId = newCorrelationId()
  return {
    id: newEventId(),
    type,
    version: 1,
    source: 'chaos',
    occurredAt: new Date().toISOString(),
    correlationId,
    causationId: '',
    key: correlationId,
    payload: { chaos: `poison ${i}: breaks the ${type} contract` },
  }
}
