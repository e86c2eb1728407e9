import { EventspineError } from '../errors.js'
import { redact } from '../redis/redact.js'

/** Where the outbox lives: a throwaway cluster this host starts (`managed`), or a database's URL. */
export type OutboxTarget = { readonly kind: 'managed' } | { readonly kind: 'url'; readonly url: string }

/** `--outbox` and the config's `outbox`: `managed` or a postgres:// (postgresql://) URL. Throws `E_OUTBOX_URL`. */
export function parseOutboxTarget(value: string): OutboxTarget {
  const text = value.trim()
  if (text === 'managed') return { kind: 'managed' }
  let url: URL | undefined
  try {
    url = new URL(text)
  } catch {
    url = undefined
  }
  if (url === undefined || !/^postgres(ql)?:$/.test(url.protocol) || url.hostname === '') {
    throw new EventspineError('E_OUTBOX_URL', `the outbox "${redact(text)}" is neither \`managed\` nor a postgres:// URL`, {
      hint: 'Give --outbox managed (a throwaway local cluster) or --outbox postgres://user@host:5432/db (PIPELINE_OUTBOX).',
    })
  }
  return { kind: 'url', url: text }
}
