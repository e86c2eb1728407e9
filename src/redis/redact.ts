/**
 * Passwords never leave the process: not in messages, logs, `--json` or the dashboard.
 * URLs lose the password part of `user:pass@` (and a bare `secret@`, which some people use for
 * the password, except in postgres:// URLs, where it is the user); `?password=` query items, `AUTH ...`/`requirepass ...` arguments and the
 * `args` of an ioredis AUTH/HELLO command are masked.
 */
// Any scheme: a mistyped `http://user:pass@...` given as a Redis URL must not leak either.
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*):\/\/([^:@/\s]*):([^@/\s]*)@/gi
const URL_BARE_USERINFO = /\b([a-z][a-z0-9+.-]*):\/\/([^:@/\s]+)@/gi
const QUERY_PASSWORD = /([?&](?:password|pass|pwd)=)[^&\s"']*/gi
// `AUTH pass`, `AUTH user pass`, `auth: [...]`; case-sensitive so "Authentication" survives.
const AUTH_ARGS = /\b(AUTH|auth)(\s*[,:\s]\s*)(\[?)([^\]\n]*)/g
const REQUIREPASS = /\b(requirepass)(\s+|["']?\s*[,:]\s*["']?)([^\s"',\]]+)/gi
// The JSON of an ioredis error's `command`: {"name":"auth","args":["secret"]}.
const COMMAND_JSON = /("name"\s*:\s*"(?:auth|hello|migrate)"\s*,\s*"args"\s*:\s*\[)[^\]]*/gi
const SENSITIVE_KEY = /pass(word)?|secret|token/i
const SENSITIVE_COMMAND = /^(auth|hello|migrate)$/i

export function redact(text: string): string {
  return text
    .replace(URL_CREDENTIALS, (_m, scheme: string, user: string) => `${scheme}://${user}:***@`)
    // In a postgres:// URL a bare `name@` is the user (libpq's rule), not a password.
    .replace(URL_BARE_USERINFO, (m, scheme: string) => (/^postgres(ql)?$/i.test(scheme) ? m : `${scheme}://***@`))
    .replace(QUERY_PASSWORD, (_m, key: string) => `${key}***`)
    .replace(COMMAND_JSON, (_m, head: string) => `${head}"***"`)
    .replace(AUTH_ARGS, (_m, word: string, sep: string, bracket: string) => `${word}${sep}${bracket}***`)
    .replace(REQUIREPASS, (_m, word: string, sep: string) => `${word}${sep}***`)
}

/** The same URL with any password replaced by `***`, for display. */
export function redactUrl(url: string): string {
  return redact(url)
}

/** Deep copy of a value with every string redacted (for `--json` output and error details). */
export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redact(value) as T
  if (Array.isArray(value)) return value.map((v) => redactDeep(v)) as T
  if (value instanceof Error) return redactDeep({ name: value.name, message: value.message, stack: value.stack }) as T
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>
    // An ioredis command object: the arguments of AUTH/HELLO are the credentials.
    const sensitiveCommand = typeof record['name'] === 'string' && SENSITIVE_COMMAND.test(record['name'])
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(record)) {
      if (SENSITIVE_KEY.test(k) && typeof v === 'string') out[k] = '***'
      else if (sensitiveCommand && k === 'args') out[k] = ['***']
      else out[k] = redactDeep(v)
    }
    return out as T
  }
  return value
}
