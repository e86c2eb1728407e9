/** Retry policy as pure functions: the clock and randomness are passed in. */
export interface RetryPolicy {
  /** Failed deliveries before an event is dead-lettered. */
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

export function decideFailure(
  policy: RetryPolicy,
  attemptsSoFar: number,
  deadLettered: boolean,
  random: () => number,
): FailureDecision {
  if (deadLettered || attemptsSoFar >= policy.maxAttempts) return { kind: 'dead-letter' }
  return { kind: 'retry', delayMs: backoffDelay(policy, attemptsSoFar, random) }
}
