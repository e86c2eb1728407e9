/** ISO 17442 LEI: 18 alphanumerics then 2 check digits; valid when its numeric form mod 97 is 1. */
const LEI_SHAPE = /^[A-Z0-9]{18}[0-9]{2}$/

function mod97(text: string): number {
  // Letters become 10-35; fold digit by digit so no big integers are needed.
  let rest = 0
  for (const ch of text) {
    const code = ch.charCodeAt(0)
    const part = code >= 65 && code <= 90 ? String(code - 55) : ch
    for (const d of part) rest = (rest * 10 + (d.charCodeAt(0) - 48)) % 97
  }
  return rest
}

/** The two check digits for the first 18 characters of an LEI (ISO 7064 MOD 97-10). */
export function leiCheckDigits(first18: string): string {
  const body = first18.toUpperCase()
  if (!/^[A-Z0-9]{18}$/.test(body)) throw new Error(`"${first18}" is not an LEI body (18 letters or digits)`)
  return String(98 - mod97(`${body}00`)).padStart(2, '0')
}

/** True when `value` is a well-formed LEI with correct check digits. */
export function isValidLei(value: string): boolean {
  return LEI_SHAPE.test(value) && mod97(value) === 1
}

/** Why an LEI is wrong, for messages; null when it is valid. */
export function leiProblem(value: string): string | null {
  if (value === '') return 'LEI is empty'
  if (!LEI_SHAPE.test(value)) return `"${value}" is not shaped like an LEI (18 letters or digits, 2 digits)`
  if (!isValidLei(value)) {
    return `"${value}" has check digits ${value.slice(18)}, expected ${leiCheckDigits(value.slice(0, 18))}`
  }
  return null
}
