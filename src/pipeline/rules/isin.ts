/** ISO 6166 ISIN: 2-letter country, 9 alphanumeric NSIN, 1 check digit (Luhn over letters as 10-35). */
const ISIN_SHAPE = /^[A-Z]{2}[A-Z0-9]{9}[0-9]$/

/** Letters become two digits (A=10 ... Z=35), digits stay as they are. */
function expand(text: string): string {
  let out = ''
  for (const ch of text) {
    const code = ch.charCodeAt(0)
    out += code >= 65 && code <= 90 ? String(code - 55) : ch
  }
  return out
}

function luhnSum(digits: string, doubleFirst: boolean): number {
  let sum = 0
  let double = doubleFirst
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48
    if (double) {
      d *= 2
      if (d > 9) d -= 9
    }
    sum += d
    double = !double
  }
  return sum
}

/** The check digit for the first 11 characters of an ISIN. */
export function isinCheckDigit(first11: string): number {
  const body = first11.toUpperCase()
  if (!/^[A-Z]{2}[A-Z0-9]{9}$/.test(body)) throw new Error(`"${first11}" is not an ISIN body (2 letters + 9 alphanumerics)`)
  // The check digit will sit to the right, so the rightmost body digit is doubled.
  return (10 - (luhnSum(expand(body), true) % 10)) % 10
}

/** True when `value` is a well-formed ISIN whose check digit is right. */
export function isValidIsin(value: string): boolean {
  if (!ISIN_SHAPE.test(value)) return false
  return luhnSum(expand(value), false) % 10 === 0
}

/** Why an ISIN is wrong, for messages; null when it is valid. */
export function isinProblem(value: string): string | null {
  if (value === '') return 'ISIN is empty'
  if (!ISIN_SHAPE.test(value)) return `"${value}" is not shaped like an ISIN (2 letters, 9 letters or digits, 1 digit)`
  if (!isValidIsin(value)) {
    return `"${value}" has check digit ${value.slice(11)}, expected ${isinCheckDigit(value.slice(0, 11))}`
  }
  return null
}
