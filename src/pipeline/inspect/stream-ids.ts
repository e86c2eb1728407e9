import ms from 'ms'
import { previousEntryId } from '../../bus/entry-ids.js'
import { EventspineError } from '../../errors.js'

const ENTRY_ID = /^(\d+)(?:-(\d+))?$/

/**
 * The exclusive XREAD position for `--since`: a duration (`10m`, `2h`) counts back from `nowMs`
 * (Redis's clock, so a skewed laptop clock does not matter); an entry id (`1732540000000-0` or
 * `1732540000000`) starts at that entry, inclusive. Absent: from now on.
 */
export function startPosition(since: string | undefined, nowMs: number): string {
  if (since === undefined || since.trim() === '') return `${nowMs}-0`
  const value = since.trim()
  const id = ENTRY_ID.exec(value)
  if (id && (id[2] !== undefined || (id[1] ?? '').length >= 12)) {
    // XREAD returns entries after the id it is given: step back one to include this entry.
    return previousEntryId(`${BigInt(id[1] as string)}-${BigInt(id[2] ?? '0')}`)
  }
  const span = ms(value as ms.StringValue) as number | undefined
  if (typeof span !== 'number' || !Number.isFinite(span) || span < 0) {
    throw new EventspineError('E_SINCE_INVALID', `--since "${since}" is neither a duration nor a stream entry id`, {
      hint: 'Use a duration such as 30s, 10m or 2h, or an entry id such as 1732540000000-0.',
    })
  }
  return `${Math.max(0, Math.floor(nowMs - span))}-0`
}
