/** How a provider writes numbers. */
export interface NumberFormat {
  readonly decimal: '.' | ','
  /** '' when the provider never groups thousands. */
  readonly thousands: '' | ',' | '.' | ' ' | "'"
}

const PLAIN = /^[+-]?(\d+(\.\d*)?|\.\d+)$/

/**
 * Parses a provider's number ("1.234,56", "1,234.56", "12.5%") into a JS number; null when
 * empty or not a number in that format, so the caller can report the raw text.
 */
export function parseNumber(raw: string, format: NumberFormat): number | null {
  let text = raw.trim().replace(/%$/, '').trim()
  if (text === '') return null
  if (format.thousands !== '') {
    // Non-breaking and narrow spaces are common grouping characters in European exports.
    const group = format.thousands === ' ' ? /[\s\u00a0\u202f]/g : new RegExp(`\\${format.thousands}`, 'g')
    text = text.replace(group, '')
  }
  if (format.decimal === ',') {
    if (text.includes('.')) return null
    text = text.replace(',', '.')
  }
  if (!PLAIN.test(text)) return null
  const value = Number(text)
  return Number.isFinite(value) ? value : null
}
