import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'

/** The header a state-changing request carries the run's token in: a page of another origin cannot set it without a CORS preflight, which we never grant. */
export const TOKEN_HEADER = 'x-eventspine-token'

/** A fresh per-run token: `up` prints it in the console URL, POSTs must echo it in TOKEN_HEADER. */
export function newToken(): string {
  return randomBytes(18).toString('base64url')
}

const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]'])

/**
 * Whether a Host header names this server by a loopback name (DNS rebinding: a page served from
 * evil.example whose name now resolves to 127.0.0.1 sends `Host: evil.example`, and is refused).
 */
export function loopbackHost(host: string | undefined, port: number): boolean {
  if (host === undefined) return false
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host.trim().toLowerCase())
  if (!m) return false
  return LOOPBACK_NAMES.has(m[1] as string) && (m[2] === undefined || Number(m[2]) === port)
}

/** The token check for a request that changes something: header present and equal (constant time), and no foreign Origin. */
export function tokenAccepted(req: IncomingMessage, token: string, port: number): boolean {
  const origin = req.headers.origin
  if (origin !== undefined) {
    try {
      if (!loopbackHost(new URL(origin).host, port)) return false
    } catch {
      return false
    }
  }
  const given = req.headers[TOKEN_HEADER]
  if (typeof given !== 'string') return false
  const a = Buffer.from(given)
  const b = Buffer.from(token)
  return a.length === b.length && timingSafeEqual(a, b)
}

/**
 * A request another site's page made: the browser says so in Sec-Fetch-Site, and a foreign
 * Origin says it too. Reads are refused for it as well as writes: a page cannot read the answer
 * (no CORS), but an `<img src>` pointed at the API would still make the server do the work.
 */
export function crossSiteRequest(req: IncomingMessage, port: number): boolean {
  const site = req.headers['sec-fetch-site']
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') return true
  const origin = req.headers.origin
  if (origin === undefined) return false
  try {
    return !loopbackHost(new URL(origin).host, port)
  } catch {
    return true
  }
}

/** No remote source of any kind: the console's own script, style and API, nothing else. */
export const CONSOLE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

/** Headers on every console response (pages, assets, API). */
export function securityHeaders(res: ServerResponse): void {
  res.setHeader('x-content-type-options', 'nosniff')
  res.setHeader('referrer-policy', 'no-referrer')
  res.setHeader('x-frame-options', 'DENY')
  res.setHeader('cross-origin-opener-policy', 'same-origin')
  res.setHeader('cross-origin-resource-policy', 'same-origin')
  res.setHeader('content-security-policy', CONSOLE_CSP)
}
