import type { FailureKind } from './failures.js'

/** Retry policy as pure functions: the clock and randomness are passed in. */
export interface RetryPolicy {
  /** Failed deliveries before an event is dead-lettered (plain errors; see FailureKind). */
  readonly maxAttempts: number
  readonly baseDelayMs: number
  readonly maxDelayMs: number
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 5_000 }

/** Exponential backoff with full jitter: attempt 1 waits up to base, attempt 2 up to 2*base... */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1))
  return Math.round(ceiling / 2 + (ceiling / 2) * random())
}

export type FailureDecision = { readonly kind: 'retry'; readonly delayMs: number } | { readonly kind: 'dead-letter' }

/** One failed attempt as the fail script recorded it. */
export interface RecordedFailure {
  /** Counted attempts so far (transient failures are not counted). */
  readonly attempts: number
  /** The script moved the event to the dead letters (last attempt, or poison). */
  readonly deadLettered: boolean
  readonly kind: FailureKind
  /** Transient failures of this event in a row (they set the backoff, as attempts do for plain ones). */
  readonly transientFailures?: number
}

/**
 * Retry or dead letters. Poison goes at once; a plain error after `maxAttempts`; a transient
 * one never (it waits with backoff: the world, not the event, has to change).
 */
export function decideFailure(policy: RetryPolicy, failure: RecordedFailure, random: () => number): FailureDecision {
  if (failure.kind === 'transient') return { kind: 'retry', delayMs: backoffDelay(policy, failure.transientFailures ?? 1, random) }
  if (failure.deadLettered || failure.kind === 'poison' || failure.attempts >= policy.maxAttempts) return { kind: 'dead-letter' }
  return { kind: 'retry', delayMs: backoffDelay(policy, failure.attempts, random) }
}
