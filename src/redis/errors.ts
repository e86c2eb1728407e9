import { EventspineError, errorMessage } from '../errors.js'
import { redact } from './redact.js'

/** Stable codes of the errors this layer throws (test them with `hasCode`). */
export const RedisErrorCode = {
  BinaryMissing: 'E_REDIS_BINARY_MISSING',
  Unreachable: 'E_REDIS_UNREACHABLE',
  Auth: 'E_REDIS_AUTH',
  InvalidUrl: 'E_REDIS_URL_INVALID',
  StartFailed: 'E_REDIS_START_FAILED',
  NotRunning: 'E_REDIS_NOT_RUNNING',
} as const

export const INSTALL_HINT =
  'Install it with `sudo apt-get install redis-server` (Debian/Ubuntu, package redis-server) or `brew install redis` (macOS), ' +
  'or pass --redis-url (or set PIPELINE_REDIS_URL) to use a Redis you already run.'

export function binaryMissingError(): EventspineError {
  return new EventspineError(RedisErrorCode.BinaryMissing, 'redis-server was not found on PATH, and no Redis URL was given.', {
    hint: INSTALL_HINT,
  })
}

const AUTH_FAILURE = /WRONGPASS|NOAUTH|invalid password|invalid username-password/i
const SENSITIVE_COMMAND = /^(auth|hello|migrate)$/i

/**
 * Masks credentials inside an ioredis error in place (its `command.args` carries the AUTH
 * password) and returns it, so it can be rethrown or logged. Non-errors pass through.
 */
export function sanitizeRedisError<T>(error: T): T {
  if (typeof error !== 'object' || error === null) return error
  const e = error as { command?: { name?: unknown; args?: unknown }; message?: unknown; stack?: unknown }
  if (e.command && typeof e.command.name === 'string' && SENSITIVE_COMMAND.test(e.command.name)) {
    e.command = { name: e.command.name, args: ['***'] }
  }
  if (typeof e.message === 'string') e.message = redact(e.message)
  if (typeof e.stack === 'string') e.stack = redact(e.stack)
  return error
}

/** Turns a failed first connection into one error a user can act on. */
export function connectError(displayUrl: string, error: unknown): EventspineError {
  const reason = redact(errorMessage(error))
  if (AUTH_FAILURE.test(reason)) {
    return new EventspineError(RedisErrorCode.Auth, `Redis at ${displayUrl} refused the credentials (${reason}).`, {
      hint: 'Check the user and password in --redis-url / PIPELINE_REDIS_URL / REDIS_URL (passwords are never printed).',
      details: { url: displayUrl, reason },
    })
  }
  return new EventspineError(RedisErrorCode.Unreachable, `Cannot reach Redis at ${displayUrl}: ${reason}.`, {
    hint:
      `Check that Redis is running and the host and port are right (try \`redis-cli -u '${displayUrl}' ping\`), ` +
      'or leave --redis-url, PIPELINE_REDIS_URL and REDIS_URL unset so pipeline starts a local redis-server itself.',
    details: { url: displayUrl, reason },
  })
}
