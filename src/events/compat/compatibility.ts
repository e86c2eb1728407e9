/**
 * Compatibility levels in the Confluent sense, between an old and a new schema of one event:
 * - `backward`: readers on the new schema read data written with the old one (stored events);
 * - `forward`: readers on the old schema read data written with the new one (deployed consumers);
 * - `full`: both; `breaking`: neither.
 */
export type Compatibility = 'full' | 'backward' | 'forward' | 'breaking'

/** One difference between two schemas, at a path in the event's payload. */
export interface SchemaChange {
  /** Where in the payload, as a JSON pointer over the data (`[]` = every array item), e.g. `/records/[]/isin`. */
  readonly path: string
  /** A stable name of the change, e.g. `property-added-required`, `type-changed`. */
  readonly kind: string
  readonly compatibility: Compatibility
  /** What changed and why that classifies it, in words a reviewer can act on. */
  readonly reason: string
}

/** A pair of answers: can new readers read old data, can old readers read new data. */
export interface Directions {
  readonly backward: boolean
  readonly forward: boolean
}

export function toCompatibility({ backward, forward }: Directions): Compatibility {
  if (backward && forward) return 'full'
  if (backward) return 'backward'
  if (forward) return 'forward'
  return 'breaking'
}

export function directionsOf(compatibility: Compatibility): Directions {
  return { backward: compatibility === 'full' || compatibility === 'backward', forward: compatibility === 'full' || compatibility === 'forward' }
}

/** The compatibility of a set of changes: a direction holds only when every change keeps it. */
export function combine(changes: readonly { compatibility: Compatibility }[]): Compatibility {
  let backward = true
  let forward = true
  for (const change of changes) {
    const d = directionsOf(change.compatibility)
    backward &&= d.backward
    forward &&= d.forward
  }
  return toCompatibility({ backward, forward })
}

/** True when a change classified `actual` meets the `required` level (`breaking` meets nothing). */
export function meets(actual: Compatibility, required: Exclude<Compatibility, 'breaking'>): boolean {
  const d = directionsOf(actual)
  if (required === 'full') return d.backward && d.forward
  return d[required]
}
