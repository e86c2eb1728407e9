/**
 * Passwords never leave the process: not in messages, logs, `--json` or the dashboard.
 * URLs lose the password part of `user:pass@`; `AUTH ...` arguments are masked.
 */
const URL_CREDENTIALS = /\b(rediss?|redis-sentinel):\/\/([^:@/\s]*):([^@/\s]+)@/gi
const AUTH_ARGS = /\b(AUTH|auth)(\s*[,:\s]\s*)(\[?)([^\]\n]*)/g

export function redact(text: string): string {
  return text
    .replace(URL_CREDENTIALS, (_m, scheme: string, user: string) => `${scheme}://${user}${user ? ':' : ':'}***@`)
    .replace(AUTH_ARGS, (_m, word: string, sep: string, bracket: string) => `${word}${sep}${bracket}***`)
}

/** The same URL with any password replaced by `***`, for display. */
export function redactUrl(url: string): string {
  return redact(url)
}

/** Deep copy of a value with every string redacted (for `--json` output and error details). */
export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redact(value) as T
  if (Array.isArray(value)) return value.map((v) => redactDeep(v)) as T
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) {
      out[k] = /pass(word)?|secret|token/i.test(k) && typeof v === 'string' ? '***' : redactDeep(v)
    }
    return out as T
  }
  return value
}
