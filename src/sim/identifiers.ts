import type { Faker } from '@faker-js/faker'
import { figiCheckDigit } from '../pipeline/rules/figi.js'
import { isinCheckDigit } from '../pipeline/rules/isin.js'
import { leiCheckDigits } from '../pipeline/rules/lei.js'

const ALNUM = '0123456789ABCDEFGHJKLMNPQRSTUVWXYZ'
const DIGITS = '0123456789'

function pick(f: Faker, alphabet: string, length: number): string {
  let out = ''
  for (let i = 0; i < length; i++) out += alphabet[f.number.int({ min: 0, max: alphabet.length - 1 })]
  return out
}

/** Hands out identifiers that are valid and never repeat within one generated day. */
export class IdentifierMint {
  private readonly used = new Set<string>()
  constructor(private readonly f: Faker) {}

  private fresh(make: () => string): string {
    for (;;) {
      const value = make()
      if (!this.used.has(value)) {
        this.used.add(value)
        return value
      }
    }
  }

  /** A valid ISIN (ISO 6166) of `country`; funds in LU/IE/FR use mostly digits, like real ones. */
  isin(country: string): string {
    return this.fresh(() => {
      const nsin = country === 'US' ? pick(this.f, ALNUM, 9) : `${pick(this.f, DIGITS, 1)}${pick(this.f, ALNUM, 2)}${pick(this.f, DIGITS, 6)}`
      const body = `${country}${nsin}`
      return `${body}${isinCheckDigit(body)}`
    })
  }

  /** A valid LEI (ISO 17442): a 4-character LOU prefix, `00`, 12 entity characters, 2 check digits. */
  lei(lou: string): string {
    return this.fresh(() => {
      const body = `${lou}00${pick(this.f, ALNUM, 12)}`
      return `${body}${leiCheckDigits(body)}`
    })
  }

  /** A FIGI with its check digit (the draw of the former random last digit is kept, so seeds give the same days otherwise). */
  figi(): string {
    return this.fresh(() => {
      const body = `BBG${pick(this.f, 'BCDFGHJKLMNPQRSTVWXYZ0123456789', 8)}`
      pick(this.f, DIGITS, 1)
      return `${body}${figiCheckDigit(body)}`
    })
  }

  cusip(): string {
    return this.fresh(() => pick(this.f, ALNUM, 9))
  }

  sedol(): string {
    return this.fresh(() => pick(this.f, 'BCDFGHJKLMNPQRSTVWXYZ0123456789', 7))
  }
}

/** The same ISIN with a wrong check digit (exactly one digit is right, so any other is wrong). */
export function corruptIsin(isin: string): string {
  const digit = Number(isin.slice(11))
  return `${isin.slice(0, 11)}${(digit + 1 + (isin.charCodeAt(3) % 8)) % 10}`
}
