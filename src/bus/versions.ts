import type { EventEnvelope } from '../events/envelope.js'
import { PoisonError } from './failures.js'
import type { ConsumerDefinition } from './types.js'

/** How a consumer that declares `reads` takes an event of a type it declares: as stored, lifted, or not at all. */
export type VersionChoice =
  | { readonly kind: 'native'; readonly event: EventEnvelope }
  | { readonly kind: 'upcast'; readonly event: EventEnvelope }
  /** A copy of a dual-published event in another version: its own copy comes too. */
  | { readonly kind: 'other-copy' }
  | { readonly kind: 'unreadable'; readonly reason: string }

/**
 * The runtime lifts every event to the latest version (reader.ts); a consumer written for
 * version `wanted` takes the stored event when it is of that version, the lifted one when
 * `wanted` is the latest, and of a dual-published event only the copy of its version.
 */
export function chooseVersion(event: EventEnvelope, wanted: number): VersionChoice {
  const stored = event.upcastFrom ?? event
  if (stored.version === wanted) return { kind: 'native', event: stored }
  if (event.dualOf !== undefined) return { kind: 'other-copy' }
  if (stored.version < wanted && event.version === wanted) return { kind: 'upcast', event }
  return { kind: 'unreadable', reason: `${event.type} v${stored.version} cannot be read as v${wanted}${stored.version > wanted ? ' (no downcast): publish both versions (publishDual) until every reader has moved' : ' (no upcaster to it)'}` }
}

/**
 * The definition with its handler taking only the versions it declares in `reads`, and of a
 * dual-published event only the copy of its version (types it does not declare: as before).
 */
export function readingVersions<D extends ConsumerDefinition>(definition: D): D {
  const reads = definition.reads ?? {}
  const handle = definition.handle.bind(definition)
  return {
    ...definition,
    handle(event, ctx) {
      const wanted = reads[event.type]
      if (wanted === undefined) return handle(event, ctx)
      const choice = chooseVersion(event, wanted)
      if (choice.kind === 'other-copy') return undefined
      if (choice.kind === 'unreadable') throw new PoisonError(`${definition.name} reads ${choice.reason}`)
      return handle(choice.event, ctx)
    },
  }
}
