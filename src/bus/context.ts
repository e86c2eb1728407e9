import type { Redis } from 'ioredis'
import { encodeEvent, type EventEnvelope } from '../events/envelope.js'
import { deriveEventId, type EventId } from '../events/ids.js'
import type { Keys } from './keys.js'
import type { ContractChecker } from './contracts.js'
import type { ConsumerContext, Emit, StateAccess } from './types.js'

/** What one handled event asks for; applied by the commit script or not at all. */
export interface Effects {
  /** Per emit: streamKey, corrKey, type, nFields, ...fields (flattened later into ARGV). */
  readonly emits: string[][]
  /** Per write: op, key, [field], [value]. */
  readonly writes: string[][]
}

/**
 * The context a handler sees. Writes are buffered into `effects`; reads go to Redis. Emitted
 * ids derive from the input id, the consumer and the emit's position, so a retry emits the
 * same ids and a replayed commit is caught by the inbox.
 */
export function createContext(options: {
  readonly event: EventEnvelope
  readonly consumer: string
  readonly attempt: number
  readonly source: string
  readonly keys: Keys
  readonly redis: Redis
  readonly contracts: ContractChecker
  readonly effects: Effects
}): ConsumerContext {
  const { event, consumer, keys, redis, contracts, effects } = options
  const stateKey = (name: string) => keys.state(consumer, name)
  const state: StateAccess = {
    get: (name) => redis.get(stateKey(name)),
    getJson: async <T>(name: string) => {
      const raw = await redis.get(stateKey(name))
      return raw === null ? null : (JSON.parse(raw) as T)
    },
    hget: (name, field) => redis.hget(stateKey(name), field),
    hgetall: (name) => redis.hgetall(stateKey(name)),
    set: (name, value) => void effects.writes.push(['set', stateKey(name), value]),
    setJson: (name, value) => void effects.writes.push(['set', stateKey(name), JSON.stringify(value)]),
    del: (name) => void effects.writes.push(['del', stateKey(name)]),
    hset: (name, field, value) => void effects.writes.push(['hset', stateKey(name), field, value]),
    hdel: (name, field) => void effects.writes.push(['hdel', stateKey(name), field]),
    hincrby: (name, field, by) => {
      if (!Number.isInteger(by)) throw new TypeError(`hincrby(${name}, ${field}) needs an integer, got ${by}`)
      effects.writes.push(['hincrby', stateKey(name), field, String(by)])
    },
  }
  return {
    consumer,
    attempt: options.attempt,
    state,
    emit<P>(out: Emit<P>): EventId {
      const version = out.version ?? contracts.latestVersion(out.type) ?? 1
      contracts.validate(out.type, version, out.payload, `${consumer} emitting`)
      const id = deriveEventId(event.id, `${consumer}#${effects.emits.length}`)
      const fields = encodeEvent({
        id,
        type: out.type,
        version,
        source: options.source,
        occurredAt: new Date().toISOString(),
        correlationId: event.correlationId,
        causationId: event.id,
        key: out.key ?? event.key,
        payload: out.payload,
      })
      effects.emits.push([keys.stream(out.type), keys.correlation(event.correlationId), out.type, String(fields.length / 2), ...fields])
      return id
    },
  }
}
