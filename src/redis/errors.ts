import { EventspineError, errorMessage, type ErrorCode } from '../errors.js'
import { redact } from './redact.js'

/** Stable codes of the errors this layer throws (test them with `hasCode`). */
export const RedisErrorCode = {
  BinaryMissing: 'E_REDIS_BINARY_MISSING',
  Unreachable: 'E_REDIS_UNREACHABLE',
  Auth: 'E_REDIS_AUTH',
  InvalidUrl: 'E_REDIS_URL_INVALID',
  StartFailed: 'E_REDIS_START_FAILED',
  NotRunning: 'E_REDIS_NOT_RUNNING',
} as const satisfies Record<string, ErrorCode>

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

/** A node of a Redis Cluster answered, but its cluster cannot serve (slots unassigned, a master down). */
export function clusterNotReadyError(displayUrl: string, state: string): EventspineError {
  return new EventspineError('E_REDIS_CLUSTER', `The Redis Cluster of ${displayUrl} is not ready: its node says cluster_state:${state}.`, {
    hint: 'Run `pipeline doctor` to see its nodes and which slots no node serves; a new cluster needs `redis-cli --cluster create`, a failed master its replica or a restart.',
    details: { url: displayUrl, state },
  })
}

interface ReplyLike {
  name: string
  message: string
  command?: { name?: unknown; args?: unknown }
}

function isReplyError(error: unknown): error is ReplyLike {
  return error instanceof Error && error.name === 'ReplyError'
}

/** The keys of a namespace a command names (`{ns}:...`): the only arguments safe to show. */
function namespacedKeys(args: unknown): string[] {
  if (!Array.isArray(args)) return []
  return [...new Set(args.filter((a): a is string => typeof a === 'string' && /^\{[A-Za-z0-9._-]{1,64}\}:/.test(a)))]
}

// The first word of an error reply is its kind; inside a script Redis 7 keeps the inner one.
const REPLY_KINDS: readonly { kinds: RegExp; code: ErrorCode; hint: (keys: readonly string[]) => string }[] = [
  {
    // Every key of one command or script shares one hash tag ({ns} or {ns:p}): anything else is ours to fix.
    kinds: /^CROSSSLOT\b|non local key in a cluster node/,
    code: 'E_REDIS_CROSSSLOT',
    hint: () => 'This is a bug in eventspine\'s key layout (every key of one command must share a hash tag): please report it with this message.',
  },
  {
    // The Cluster client follows these by itself; one that reaches us kept failing for its whole retry budget.
    kinds: /^(MOVED|ASK|CLUSTERDOWN|TRYAGAIN)\b|^Too many Cluster redirections/,
    code: 'E_REDIS_CLUSTER',
    hint: () => 'The cluster is failing over, resharding or missing slots: run `pipeline doctor` to see its nodes and slot coverage, and try again once it says cluster_state:ok.',
  },
  {
    kinds: /^WRONGTYPE\b/,
    code: 'E_REDIS_WRONGTYPE',
    hint: (keys) => {
      const namespace = /^\{([^}]+)\}:/.exec(keys[0] ?? '')?.[1]
      return `Another program uses this namespace${namespace === undefined ? '' : ` (${namespace})`}: pick another --namespace (or PIPELINE_NAMESPACE), or delete that program's keys.`
    },
  },
  {
    kinds: /^OOM\b/,
    code: 'E_REDIS_OOM',
    hint: () => 'Redis reached maxmemory: raise it (`redis-cli CONFIG SET maxmemory <bytes>`, and in redis.conf), or free space (`pipeline dlq purge`, trim old streams).',
  },
  {
    kinds: /^NOPERM\b/,
    code: 'E_REDIS_NOPERM',
    hint: () => 'The Redis user in --redis-url lacks a permission: grant it the commands and keys of the namespace (e.g. `ACL SETUSER <user> ~{<namespace>}:* +@all`), or use another user.',
  },
  {
    kinds: /^(NOAUTH|WRONGPASS)\b/,
    code: 'E_REDIS_AUTH',
    hint: () => 'Put the user and password in --redis-url / PIPELINE_REDIS_URL / REDIS_URL (redis://user:password@host:port; passwords are never printed).',
  },
  {
    kinds: /^READONLY\b/,
    code: 'E_REDIS_REPLY',
    hint: () => 'This Redis is a read-only replica: point --redis-url at its primary.',
  },
  {
    kinds: /^(LOADING|BUSY|MASTERDOWN)\b/,
    code: 'E_REDIS_REPLY',
    hint: () => 'Redis is busy (loading its data or running a long script): try again in a moment.',
  },
]

/**
 * Turns an error reply of Redis (an ioredis `ReplyError`) into an error that says which command
 * failed on which keys and what to do; `undefined` for any other error. Only the command name
 * and the namespace's keys are shown: other arguments may be payloads, or a password.
 */
export function replyError(error: unknown): EventspineError | undefined {
  if (!isReplyError(error)) return undefined
  const reply = redact(error.message)
  const name = typeof error.command?.name === 'string' ? error.command.name.toUpperCase() : undefined
  const keys = namespacedKeys(error.command?.args)
  const known = REPLY_KINDS.find((k) => k.kinds.test(reply))
  const what = name === undefined ? 'a command' : keys.length === 0 ? name : `${name} on ${keys.join(', ')}`
  const message =
    known?.code === 'E_REDIS_WRONGTYPE' && keys.length > 0
      ? `${keys.length === 1 ? `key ${keys[0]} holds` : `one of the keys ${keys.join(', ')} holds`} another Redis type than eventspine expects (${name} failed: ${reply})`
      : `Redis refused ${what}: ${reply}`
  return new EventspineError(known?.code ?? 'E_REDIS_REPLY', message, {
    hint: known?.hint(keys) ?? 'Check that this is a standalone Redis eventspine may write to (`pipeline doctor` checks it); if it is, this is a bug in eventspine: please report it with this message.',
    details: { command: name ?? null, keys, reply },
  })
}
