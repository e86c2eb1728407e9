import type { EventEnvelope } from '../events/envelope.js'
import { defineConsumer, type ConsumerDefinition } from './types.js'

export interface TranslationOptions {
  readonly name: string
  /** The old type (and the version the translation is written for; default the latest). */
  readonly from: { readonly type: string; readonly version?: number }
  /** The new type (and the version it emits; default the latest). */
  readonly to: { readonly type: string; readonly version?: number }
  /** The new payload for one old event (pure: a replay translates the same). */
  translate(payload: unknown, event: EventEnvelope): unknown
}

/**
 * The strangler path of a contract migration: a consumer that re-publishes every event of an
 * old type as the new type (same key, correlation and causation chain), so readers move to the
 * new type one by one while producers still write the old one. `pipeline reconcile
 * --translation <name>` checks that every old event has its translation.
 */
export function translationConsumer(options: TranslationOptions): ConsumerDefinition {
  return defineConsumer({
    name: options.name,
    subscribes: [options.from.type],
    emits: [options.to.type],
    ...(options.from.version === undefined ? {} : { reads: { [options.from.type]: options.from.version } }),
    description: `Translates ${options.from.type} into ${options.to.type} (strangler migration).`,
    handle(event, ctx) {
      ctx.emit({ type: options.to.type, payload: options.translate(event.payload, event), ...(options.to.version === undefined ? {} : { version: options.to.version }) })
    },
  })
}
