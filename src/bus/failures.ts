import { EventspineError, hasCode } from '../errors.js'

/**
 * What a failed attempt says about the event. `transient`: the world is wrong (a full disk, a
 * service down); retry until it is right, never dead-letter. `poison`: this event is wrong;
 * dead-letter it now. `plain`: any other error; a few attempts, then the dead letters.
 */
export type FailureKind = 'transient' | 'poison' | 'plain'

/**
 * Throw from a handler when the failure has nothing to do with the event: it is retried with
 * backoff until it succeeds (never dead-lettered), and it counts toward the consumer's breaker.
 *
 * @example
 * ```ts
 * try {
 *   await sftp.put(file)
 * } catch (error) {
 *   throw new TransientError('the SFTP server is unreachable', { cause: error })
 * }
 * ```
 */
export class TransientError extends EventspineError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('E_TRANSIENT', message, { ...options, userFixable: false })
    this.name = 'TransientError'
  }
}

/**
 * Throw from a handler when this event can never succeed: it is dead-lettered at once, without
 * retries, and it does not count toward the consumer's breaker.
 *
 * @example
 * ```ts
 * const doc = tryParse(event.payload.body)
 * if (doc === undefined) throw new PoisonError(`event ${event.id}: the body is not JSON`)
 * ```
 */
export class PoisonError extends EventspineError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('E_POISON', message, { ...options, userFixable: false })
    this.name = 'PoisonError'
  }
}

/** The kind of a handler's failure, by its code (so it holds across realms and copies of the library). */
export function failureKind(error: unknown): FailureKind {
  if (hasCode(error, 'E_TRANSIENT')) return 'transient'
  if (hasCode(error, 'E_POISON')) return 'poison'
  return 'plain'
}
