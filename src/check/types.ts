import type { ConsumerDefinition } from '../bus/types.js'
import type { EventEnvelope } from '../events/envelope.js'

/** The five properties, each checked and reported on its own. */
export const PROPERTIES = ['idempotency', 'ordering', 'replay', 'crash-safety', 'poison-isolation'] as const
export type PropertyName = (typeof PROPERTIES)[number]

/** What a run gives the consumer under test: a scratch folder of its own for state outside Redis. */
export interface CheckEnv {
  /** An empty folder for this instance's run (deliver's out dir, a user's file sink). */
  readonly tmpDir: string
  /** The run's namespace (`keysFor(namespace)` names its keys) and Redis, for consumers that open their own client. */
  readonly namespace: string
  readonly redisUrl: string
  /** The host's "now" where it pins one (`load` to the end of the generated day); else use the clock. */
  readonly clock?: () => Date
}

/**
 * A consumer to check: the definition itself, or a factory the harness calls for every fresh
 * instance (needed when the consumer keeps state outside Redis, so that a "fresh instance" in
 * the replay property really starts empty).
 */
export type ConsumerUnderTest = ConsumerDefinition | ((env: CheckEnv) => ConsumerDefinition)

/** A fully specified input event (ids, times and correlation fixed, so runs are reproducible). */
export type CheckEvent = EventEnvelope

export interface PropertyResult {
  readonly consumer: string
  readonly property: PropertyName
  readonly passed: boolean
  /** Runs made (fewer than asked when a counterexample was found early). */
  readonly runs: number
  readonly seed: number
  /** Why the property does not apply (e.g. ordering's state comparison for dependsOnCrossKeyOrder). */
  readonly note?: string
  /** Worth knowing but not a failure (e.g. the consumer emits a type its `emits` does not declare). */
  readonly warnings?: readonly string[]
  readonly counterexample: Counterexample | null
  readonly durationMs: number
  /** For a failure under `pipeline fuzz`: the command that re-runs just this case (with its contracts and flags). */
  readonly reproduce?: string
}

/** A shrunk failing case: the events, the schedule and what went wrong, readable as a story. */
export interface Counterexample {
  readonly events: readonly string[]
  readonly schedule: readonly string[]
  /** What each step did, from a re-run of the shrunk case. */
  readonly story: readonly string[]
  readonly failure: string
  /** fast-check's replay path, for `--seed S` plus this path. */
  readonly path: string
}
