import { describe, expect, it } from 'vitest'
import { isActiveCurrency } from '../../src/pipeline/rules/currency.js'
import { businessDaysBetween, isFutureDay, parseDate } from '../../src/pipeline/rules/dates.js'
import { isinCheckDigit, isinProblem, isValidIsin } from '../../src/pipeline/rules/isin.js'
import { isValidLei, leiCheckDigits, leiProblem } from '../../src/pipeline/rules/lei.js'
import { parseNumber } from '../../src/pipeline/rules/numbers.js'

describe('ISIN (ISO 6166)', () => {
  it.each([
    ['US0378331005', 'Apple'],
    ['US5949181045', 'Microsoft'],
    ['US02079K3059', 'Alphabet (letter in the NSIN)'],
    ['GB0002634946', 'BAE Systems'],
    ['DE0007164600', 'SAP'],
    ['NL0010273215', 'ASML'],
    ['CH0038863350', 'Nestlé'],
    ['AU0000XVGZA3', 'Treasury Corp of Victoria (letters throughout)'],
    ['JP3633400001', 'Toyota'],
  ])('accepts %s (%s)', (isin) => {
    expect(isValidIsin(isin)).toBe(true)
    expect(isinProblem(isin)).toBeNull()
    expect(isinCheckDigit(isin.slice(0, 11))).toBe(Number(isin[11]))
  })

  it.each([
    ['US0378331006', 'wrong check digit'],
    ['US0378331000', 'wrong check digit'],
    ['US037833100', 'too short'],
    ['US03783310055', 'too long'],
    ['us0378331005', 'lower case'],
    ['1S0378331005', 'country not letters'],
    ['US037833100X', 'check digit not a digit'],
    ['', 'empty'],
  ])('rejects %s (%s)', (isin) => {
    expect(isValidIsin(isin)).toBe(false)
    expect(isinProblem(isin)).not.toBeNull()
  })

  it('names the expected check digit in its message', () => {
    expect(isinProblem('US0378331006')).toContain('expected 5')
  })

  it('catches every single-digit substitution in the NSIN', () => {
    const good = 'US0378331005'
    for (let i = 2; i < 11; i++) {
      for (const d of '0123456789') {
        if (d === good[i]) continue
        const bad = good.slice(0, i) + d + good.slice(i + 1)
        expect(isValidIsin(bad), bad).toBe(false)
      }
    }
  })
})

describe('LEI (ISO 17442)', () => {
  it.each([
    ['5493001KJTIIGC8Y1R12', 'Bloomberg Finance L.P.'],
    ['HWUPKR0MPOU8FGXBT394', 'Apple Inc.'],
    ['7LTWFZYICNSX8D621K86', 'Deutsche Bank AG'],
    ['529900T8BM49AURSDO55', 'Deutsche Börse AG'],
  ])('accepts %s (%s)', (lei) => {
    expect(isValidLei(lei)).toBe(true)
    expect(leiProblem(lei)).toBeNull()
    expect(leiCheckDigits(lei.slice(0, 18))).toBe(lei.slice(18))
  })

  it.each([
    ['5493001KJTIIGC8Y1R13', 'wrong check digits'],
    ['5493001KJTIIGC8Y1R21', 'swapped check digits'],
    ['5493001KJTIIGC8Y1R1', 'too short'],
    ['5493001KJTIIGC8Y1RAB', 'letters as check digits'],
    ['5493001kjtiigc8y1r12', 'lower case'],
    ['', 'empty'],
  ])('rejects %s (%s)', (lei) => {
    expect(isValidLei(lei)).toBe(false)
    expect(leiProblem(lei)).not.toBeNull()
  })

  it('pads single-digit check values', () => {
    // 98 - mod97 can be below 10: the two digits keep a leading zero.
    const body = '529900D6BX1QK8ZT2W'
    expect(leiCheckDigits(body)).toMatch(/^\d\d$/)
    expect(isValidLei(body + leiCheckDigits(body))).toBe(true)
  })
})

describe('ISO 4217 currencies', () => {
  it.each(['EUR', 'USD', 'GBP', 'CHF', 'JPY', 'DKK', 'SEK', 'XCG', 'ZWG', 'SLE'])('accepts active %s', (code) => {
    expect(isActiveCurrency(code)).toBe(true)
  })
  it.each(['EUX', 'XYZ', 'eur', 'EURO', '', 'HRK', 'DEM', 'FRF', 'SLL', 'XXX', 'XTS'])('refuses %s', (code) => {
    expect(isActiveCurrency(code)).toBe(false)
  })
})

describe('dates', () => {
  it.each([
    ['2026-11-24', 'YYYY-MM-DD', '2026-11-24'],
    ['24/11/2026', 'DD/MM/YYYY', '2026-11-24'],
    ['11/24/2026', 'MM/DD/YYYY', '2026-11-24'],
    ['1/2/2026', 'MM/DD/YYYY', '2026-01-02'],
    ['24.11.2026', 'DD.MM.YYYY', '2026-11-24'],
    ['20261124', 'YYYYMMDD', '2026-11-24'],
    ['2024-02-29', 'YYYY-MM-DD', '2024-02-29'],
  ] as const)('reads %s as %s', (raw, format, iso) => {
    expect(parseDate(raw, format)).toBe(iso)
  })

  it.each([
    ['2026-02-29', 'YYYY-MM-DD', 'not a leap year'],
    ['31/04/2026', 'DD/MM/YYYY', 'April has 30 days'],
    ['11/24/2026', 'DD/MM/YYYY', 'month 24'],
    ['2026-13-01', 'YYYY-MM-DD', 'month 13'],
    ['24-11-2026', 'DD/MM/YYYY', 'wrong separators'],
    ['yesterday', 'YYYY-MM-DD', 'words'],
  ] as const)('refuses %s in %s (%s)', (raw, format, _why) => {
    expect(parseDate(raw, format)).toBeNull()
  })

  it('treats a day as future only once no time zone has reached it', () => {
    const morning = new Date('2026-11-25T06:00:00Z') // 20:00 on the 25th at UTC+14
    expect(isFutureDay('2026-11-24', morning)).toBe(false)
    expect(isFutureDay('2026-11-25', morning)).toBe(false)
    expect(isFutureDay('2026-11-26', morning)).toBe(true)
    expect(isFutureDay('2099-01-15', morning)).toBe(true)
    // 20:00 UTC is already the 26th in Tokyo (UTC+9): a Tokyo NAV for the 26th is not future.
    const evening = new Date('2026-11-25T20:00:00Z')
    expect(isFutureDay('2026-11-26', evening)).toBe(false)
    expect(isFutureDay('2026-11-27', evening)).toBe(true)
  })

  it('counts business days, skipping weekends', () => {
    expect(businessDaysBetween('2026-11-25', '2026-11-25')).toBe(0)
    expect(businessDaysBetween('2026-11-24', '2026-11-25')).toBe(1) // Tue -> Wed
    expect(businessDaysBetween('2026-11-20', '2026-11-23')).toBe(1) // Fri -> Mon
    expect(businessDaysBetween('2026-11-19', '2026-11-23')).toBe(2) // Thu -> Mon
    expect(businessDaysBetween('2026-11-16', '2026-11-23')).toBe(5)
    expect(businessDaysBetween('2026-11-25', '2026-11-24')).toBe(-1)
  })
})

describe('numbers', () => {
  const dot = { decimal: '.', thousands: '' } as const
  const us = { decimal: '.', thousands: ',' } as const
  const fr = { decimal: ',', thousands: '.' } as const
  const ch = { decimal: '.', thousands: "'" } as const
  it('reads each provider style', () => {
    expect(parseNumber('148.2731', dot)).toBe(148.2731)
    expect(parseNumber('-9.72', dot)).toBe(-9.72)
    expect(parseNumber('1,234,567.89', us)).toBe(1234567.89)
    expect(parseNumber('1.234,56', fr)).toBe(1234.56)
    expect(parseNumber('12,40', fr)).toBe(12.4)
    expect(parseNumber("1'234.5", ch)).toBe(1234.5)
    expect(parseNumber('8.45%', dot)).toBe(8.45)
    expect(parseNumber('1 234,5', { decimal: ',', thousands: ' ' })).toBe(1234.5)
  })
  it('returns null for what is not a number in the format', () => {
    expect(parseNumber('', dot)).toBeNull()
    expect(parseNumber('n/a', dot)).toBeNull()
    expect(parseNumber('1,5', dot)).toBeNull()
    expect(parseNumber('1.234.567,89.1', fr)).toBeNull()
    expect(parseNumber('12.5', { decimal: ',', thousands: '' })).toBeNull()
    expect(parseNumber('1e9', dot)).toBeNull()
    expect(parseNumber('Infinity', dot)).toBeNull()
  })
})
