import type { ErrorCode } from './error-codes.js'

export { ERROR_CODES, type ErrorCode } from './error-codes.js'

/**
 * Errors that carry a stable `code`. Callers test the code (with {@link hasCode}), never the
 * message or the class, so errors survive being serialised across processes and `--json`.
 *
 * `userFixable` errors are ones a user can act on (bad flag, missing binary, invalid file); the
 * CLI prints them with their `hint` and exits 1. Anything else is a bug and is printed with
 * enough to report it.
 */
export class EventspineError extends Error {
  readonly code: ErrorCode
  readonly hint: string | undefined
  readonly userFixable: boolean
  readonly details: Readonly<Record<string, unknown>> | undefined

  constructor(
    code: ErrorCode,
    message: string,
    options: {
      hint?: string
      userFixable?: boolean
      details?: Record<string, unknown>
      cause?: unknown
    } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'EventspineError'
    this.code = code
    this.hint = options.hint
    this.userFixable = options.userFixable ?? true
    this.details = options.details
  }
}

/** True when `error` carries the given stable code (works across realms and after JSON). */
export function hasCode(error: unknown, code: ErrorCode): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    (error as { code: unknown }).code === code
  )
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
