/**
 * FIGI (OMG Financial Instrument Global Identifier): 12 characters, `BBG` or another issuer
 * prefix, consonants and digits only (no vowels), the last a check digit computed like ISIN's
 * modified Luhn over the first 11 (letters as 10-35, every second value doubled, digits summed).
 */
const FIGI_SHAPE = /^[B-DF-HJ-NP-TV-Z]{2}G[B-DF-HJ-NP-TV-Z0-9]{8}[0-9]$/

/** The check digit for the first 11 characters of a FIGI. */
export function figiCheckDigit(first11: string): string {
  const body = first11.toUpperCase()
  if (!/^[A-Z0-9]{11}$/.test(body)) throw new Error(`"${first11}" is not a FIGI body (11 letters or digits)`)
  let sum = 0
  for (let i = 0; i < body.length; i++) {
    const code = body.charCodeAt(i)
    let value = code >= 65 ? code - 55 : code - 48
    if (i % 2 === 1) value *= 2
    for (const d of String(value)) sum += d.charCodeAt(0) - 48
  }
  return String((10 - (sum % 10)) % 10)
}

/** Why a FIGI is wrong, for messages; null when it is valid. */
export function figiProblem(value: string): string | null {
  if (!FIGI_SHAPE.test(value)) return `"${value}" is not shaped like a FIGI (12 characters: 2 consonants, G, 8 consonants or digits, a check digit)`
  const expected = figiCheckDigit(value.slice(0, 11))
  return value.slice(11) === expected ? null : `"${value}" has check digit ${value.slice(11)}, expected ${expected}`
}
