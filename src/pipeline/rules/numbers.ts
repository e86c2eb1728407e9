/** How a provider writes numbers. */
export interface NumberFormat {
  readonly decimal: '.' | ','
  /** '' when the provider never groups thousands. */
  readonly thousands: '' | ',' | '.' | ' ' | "'"
}

/**
 * Parses a provider's number ("1.234,56", "1,234.56", "12.5%") into a JS number; null when
 * empty or not a number in that format, so the caller can report the raw text. Grouping must
 * be real grouping (threes, before the decimal separator): "1.234.567,89.1" is refused, not
 * read as 1234567.891.
 */
export function parseNumber(raw: string, format: NumberFormat): number | null {
  let text = raw.trim().replace(/%$/, '').trim()
  if (text === '') return null
  if (format.thousands === ' ') text = text.replace(/[\u00a0\u202f]/g, ' ') // NBSP and narrow NBSP group digits in European exports
  const match = /^([+-]?)(\d[\d.,' ]*)?$/.exec(text)
  if (match === null) return null
  const sign = match[1] ?? ''
  const body = match[2] ?? ''
  const parts = body.split(format.decimal)
  if (parts.length > 2) return null
  const [whole = '', fraction] = parts
  if (fraction !== undefined && !/^\d*$/.test(fraction)) return null
  let digits = whole
  if (format.thousands !== '' && whole.includes(format.thousands)) {
    const groups = whole.split(format.thousands)
    const [head = '', ...rest] = groups
    if (!/^\d{1,3}$/.test(head) || !rest.every((g) => /^\d{3}$/.test(g))) return null
    digits = groups.join('')
  }
  if (!/^\d+$/.test(digits)) return null
  const value = Number(`${sign}${digits}${fraction === undefined || fraction === '' ? '' : `.${fraction}`}`)
  return Number.isFinite(value) ? value : null
}
