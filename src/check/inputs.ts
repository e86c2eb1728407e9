import fc from 'fast-check'
import type { ConsumerDefinition } from '../bus/types.js'
import type { ContractRegistry } from '../events/contracts.js'
import { deriveEventId, type CorrelationId, type EventId } from '../events/ids.js'
import { schemaArbitrary } from './schema.js'
import type { CheckEvent } from './types.js'

/** An input event before the harness gives it an id, a time and a source. */
export interface DraftEvent {
  readonly type: string
  readonly payload: unknown
  readonly key: string
  readonly correlationId: string
  readonly version?: number
}

/** Where a consumer's input sequences come from. */
export interface InputModel {
  /** Sequences of input events for the consumer, short, with keys and correlation ids that collide. */
  events(consumer: ConsumerDefinition): fc.Arbitrary<DraftEvent[]>
}

/** Keys and correlation ids come from small pools so that collisions (same key, same file) are common. */
export const KEY_POOL = ['k1', 'k2', 'k3'] as const
export const CORRELATION_POOL = ['corr-1', 'corr-2', 'corr-3'] as const

const ROOT_ID = '019ab000-0000-7000-8000-000000000000'
const BASE_TIME = Date.parse('2026-11-25T08:00:00.000Z')

/** Gives drafts ids (derived from their position, so a shrunk case keeps its ids), times and a source. */
export function finalise(drafts: readonly DraftEvent[], registry: ContractRegistry | undefined): CheckEvent[] {
  return drafts.map((d, i) => ({
    id: deriveEventId(ROOT_ID, `input#${i}`),
    type: d.type,
    version: d.version ?? registry?.latestVersion(d.type) ?? 1,
    source: 'eventspine-check',
    occurredAt: new Date(BASE_TIME + i * 60_000).toISOString(),
    correlationId: d.correlationId as CorrelationId,
    causationId: '' as EventId | '',
    key: d.key,
    payload: d.payload,
  }))
}

/**
 * Inputs from the consumer's subscribed contracts: each payload generated from the JSON Schema
 * of the type's latest version (or from `overrides[type]`), kept only when the contract accepts
 * it; keys and correlation ids from the small pools.
 */
export function contractInputs(registry: ContractRegistry | undefined, overrides: Readonly<Record<string, fc.Arbitrary<unknown>>> = {}, maxEvents = 6): InputModel {
  return {
    events(consumer) {
      const byType = consumer.subscribes.map((type) => payloadArbitrary(type, registry, overrides[type]).map((payload) => ({ type, payload })))
      const draft = fc.record({
        body: fc.oneof(...byType),
        key: fc.constantFrom(...KEY_POOL),
        correlationId: fc.constantFrom(...CORRELATION_POOL),
      })
      return fc.array(draft, { minLength: 1, maxLength: maxEvents }).map((list) => list.map(({ body, key, correlationId }) => ({ ...body, key, correlationId })))
    },
  }
}

function payloadArbitrary(type: string, registry: ContractRegistry | undefined, override: fc.Arbitrary<unknown> | undefined): fc.Arbitrary<unknown> {
  if (override) return override
  const version = registry?.latestVersion(type)
  const contract = version === undefined ? undefined : registry?.get(type, version)
  if (!contract || version === undefined || !registry) return fc.dictionary(fc.constantFrom('a', 'b', 'n'), fc.oneof(fc.integer({ min: 0, max: 9 }), fc.constantFrom('x', 'y')), { maxKeys: 3 })
  return schemaArbitrary(contract.schema as Record<string, unknown>).filter((payload) => {
    try {
      registry.validate(type, version, payload)
      return true
    } catch {
      return false
    }
  })
}
