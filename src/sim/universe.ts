import type { Faker } from '@faker-js/faker'
import { IdentifierMint } from './identifiers.js'
import type { ProviderName } from './types.js'

export interface ShareClass {
  readonly isin: string
  /** The share class's full name, as reference tables and NAV files carry it. */
  readonly name: string
  readonly currency: string
  /** NAV on the previous business day; the day's NAV walks on from it. */
  readonly navBase: number
  readonly sharesOutstanding: number
}

/** A sub-fund of an umbrella: one legal entity (LEI), one provider, 1-4 share classes. */
export interface Fund {
  readonly provider: ProviderName
  readonly name: string
  readonly lei: string
  readonly domicile: string
  readonly assetClass: string
  readonly manager: string
  readonly classes: readonly ShareClass[]
}

export interface Security {
  readonly isin: string
  readonly name: string
  readonly cusip: string
  readonly sedol: string
  readonly figi: string
  readonly ticker: string
}

const STRATEGIES: readonly (readonly [string, string])[] = [
  ['Global Equity', 'Equity'],
  ['European Equity', 'Equity'],
  ['US Large Cap Growth', 'Equity'],
  ['Japan Equity', 'Equity'],
  ['Asia Pacific Equity', 'Equity'],
  ['European Small Cap', 'Equity'],
  ['Sustainable Global Equity', 'Equity'],
  ['Euro Corporate Bond', 'Fixed Income'],
  ['Global High Yield', 'Fixed Income'],
  ['Emerging Markets Debt', 'Fixed Income'],
  ['Short Duration Income', 'Fixed Income'],
  ['Inflation Linked Bond', 'Fixed Income'],
  ['Multi-Asset Income', 'Multi-Asset'],
  ['Global Balanced', 'Multi-Asset'],
  ['Euro Money Market', 'Money Market'],
]

const DOMICILES: Readonly<Record<ProviderName, readonly string[]>> = {
  northwind: ['LU', 'IE', 'GB'],
  lumen: ['FR', 'LU'],
  atlas: ['US', 'IE'],
  fundsxml: ['LU', 'IE'],
  emt: ['IE', 'LU'],
  openfunds: ['LU', 'FR'],
}

/**
 * Senders whose documents state one fund total next to the share classes' net assets: their
 * classes share the fund's currency, so the sum is in one currency.
 */
const ONE_CURRENCY: ReadonlySet<ProviderName> = new Set(['fundsxml', 'openfunds'])

const CURRENCIES: Readonly<Record<string, readonly string[]>> = {
  LU: ['EUR', 'USD', 'GBP', 'CHF', 'SEK'],
  IE: ['USD', 'EUR', 'GBP', 'JPY'],
  GB: ['GBP', 'USD', 'EUR'],
  FR: ['EUR', 'EUR', 'USD', 'CHF'],
  US: ['USD'],
}

/** Local operating units that issue LEIs, by domicile (real prefixes). */
const LOUS: Readonly<Record<string, string>> = { LU: '2221', IE: '6354', GB: '2138', FR: '9695', US: '5493' }

const SUFFIX: Readonly<Record<string, string>> = { LU: 'S.A.', IE: 'Ltd', GB: 'Ltd', FR: 'SAS', US: 'LLC' }

interface Umbrella {
  readonly brand: string
  readonly provider: ProviderName
  readonly domicile: string
  readonly manager: string
  remaining: number
}

/** Draws funds, umbrella by umbrella, and a pool of held securities, from one seeded faker. */
export class Universe {
  readonly mint: IdentifierMint
  readonly funds: Fund[] = []
  readonly securities: Security[] = []
  private umbrella: Umbrella | null = null

  constructor(
    private readonly f: Faker,
    private readonly providers: readonly ProviderName[],
    securities = 600,
  ) {
    if (providers.length === 0) throw new Error('a universe needs at least one provider')
    this.mint = new IdentifierMint(f)
    const countries = ['US', 'US', 'US', 'GB', 'DE', 'FR', 'NL', 'JP', 'CH']
    for (let i = 0; i < securities; i++) {
      const country = f.helpers.arrayElement(countries)
      const name = `${f.person.lastName()} ${f.helpers.arrayElement(['Holdings', 'Group', 'Industries', 'Systems', 'Energy', 'Bank', 'Pharma', 'Motors'])} ${country === 'US' ? 'Inc.' : country === 'GB' ? 'plc' : 'SE'}`
      this.securities.push({
        isin: this.mint.isin(country),
        name,
        cusip: country === 'US' ? this.mint.cusip() : '',
        sedol: country === 'GB' ? this.mint.sedol() : '',
        figi: this.mint.figi(),
        ticker: `${name.slice(0, 4).toUpperCase().replace(/[^A-Z]/g, 'X')} ${country}`,
      })
    }
  }

  private nextUmbrella(): Umbrella {
    const f = this.f
    const provider = f.helpers.arrayElement(this.providers)
    const domicile = f.helpers.arrayElement(DOMICILES[provider])
    const brand = `${f.person.lastName()} ${f.helpers.arrayElement(['Capital', 'Partners', 'Investors', 'Asset Management', 'Funds'])}`
    return { brand, provider, domicile, manager: `${brand} ${SUFFIX[domicile] ?? 'Ltd'}`, remaining: f.number.int({ min: 3, max: 8 }) }
  }

  /** The next sub-fund: a new umbrella every few funds. */
  nextFund(): Fund {
    const f = this.f
    if (this.umbrella === null || this.umbrella.remaining === 0) this.umbrella = this.nextUmbrella()
    const u = this.umbrella
    u.remaining--
    const [strategy, assetClass] = f.helpers.arrayElement(STRATEGIES)
    const name = `${u.brand} ${strategy} Fund`
    const currencies = CURRENCIES[u.domicile] ?? ['EUR']
    const count = f.number.int({ min: 1, max: 4 })
    const classes: ShareClass[] = []
    const letters = ['A', 'B', 'C', 'I', 'R', 'Z']
    const start = f.number.float({ min: 8, max: 400, fractionDigits: 2 })
    for (let i = 0; i < count; i++) {
      const first = currencies[0] ?? 'EUR'
      // Drawn whatever the provider, so the seed's sequence of draws does not depend on it.
      const drawn = i === 0 ? first : f.helpers.arrayElement(currencies)
      const currency = ONE_CURRENCY.has(u.provider) ? first : drawn
      const income = f.helpers.arrayElement(['Acc', 'Dist'])
      classes.push({
        isin: this.mint.isin(u.domicile),
        name: `${name} ${letters[i] ?? 'X'} ${currency} ${income}`,
        currency,
        navBase: Math.round(start * f.number.float({ min: 0.8, max: 1.25 }) * 10_000) / 10_000,
        sharesOutstanding: f.number.int({ min: 50_000, max: 90_000_000 }),
      })
    }
    const fund: Fund = { provider: u.provider, name, lei: this.mint.lei(LOUS[u.domicile] ?? '5493'), domicile: u.domicile, assetClass, manager: u.manager, classes }
    this.funds.push(fund)
    return fund
  }

  /** `funds.csv` and `identifiers.csv` for enrich and resolve: every share class and security. */
  referenceTables(): { funds: string; identifiers: string } {
    const funds = ['isin,fundName,lei,currency,domicile,assetClass,manager']
    const ids = ['isin,cusip,sedol,figi,ticker']
    for (const fund of this.funds) {
      for (const c of fund.classes) {
        funds.push([c.isin, c.name, fund.lei, c.currency, fund.domicile, fund.assetClass, fund.manager].map((v) => csvCell(v)).join(','))
        ids.push([c.isin, '', '', this.mint.figi(), `${c.isin.slice(2, 8)} ${fund.domicile}`].map((v) => csvCell(v)).join(','))
      }
    }
    for (const s of this.securities) ids.push([s.isin, s.cusip, s.sedol, s.figi, s.ticker].map((v) => csvCell(v)).join(','))
    return { funds: `${funds.join('\n')}\n`, identifiers: `${ids.join('\n')}\n` }
  }
}

/** A CSV cell, quoted when it holds the delimiter, a quote or a line break. */
export function csvCell(value: string, delimiter = ','): string {
  return value.includes(delimiter) || value.includes('"') || /[\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value
}
