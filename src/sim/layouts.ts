import iconv from 'iconv-lite'
import type { FileKind } from '../pipeline/types.js'
import { csvCell } from './universe.js'
import type { ProviderName } from './types.js'

/** One row as the generator knows it: canonical field names, ISO dates, JS numbers. */
export type CanonicalRow = Readonly<Record<string, string | number>>

interface Layout {
  readonly delimiter: ',' | ';'
  readonly decimal: '.' | ','
  /** '' = never grouped. */
  readonly thousands: '' | ',' | '.'
  readonly date: (iso: string) => string
  /** Canonical field -> the provider's column, in the provider's column order. */
  readonly columns: Readonly<Record<FileKind, readonly (readonly [string, string])[]>>
}

const [NAV, HOLDINGS, REFERENCE] = ['nav', 'holdings', 'reference'] as const

/** Providers that send CSV: the three layouts, the EMT and openfunds senders (FundsXML is `fundsxml.ts`). */
export type CsvProvider = Exclude<ProviderName, 'fundsxml'>

/**
 * The CSV layouts, as `fixtures/mapping-profiles/*.json` describe them. Columns of generator-only
 * fields (the EMT's version, producer, identifier type...) are written from the row as well.
 */
export const LAYOUTS: Readonly<Record<CsvProvider, Layout>> = {
  northwind: {
    delimiter: ',',
    decimal: '.',
    thousands: '',
    date: (iso) => iso,
    columns: {
      [NAV]: [['isin', 'ISIN'], ['shareClassName', 'Share Class'], ['navDate', 'NAV Date'], ['nav', 'NAV'], ['currency', 'Currency'], ['lei', 'LEI'], ['totalNetAssets', 'Total Net Assets'], ['sharesOutstanding', 'Shares Outstanding']],
      [HOLDINGS]: [['fundIsin', 'Fund ISIN'], ['holdingIsin', 'Holding ISIN'], ['holdingName', 'Holding Name'], ['weight', 'Weight %'], ['marketValue', 'Market Value'], ['currency', 'Currency'], ['asOfDate', 'As Of']],
      [REFERENCE]: [['isin', 'ISIN'], ['fundName', 'Fund Name'], ['lei', 'LEI'], ['currency', 'Currency'], ['domicile', 'Domicile'], ['assetClass', 'Asset Class'], ['manager', 'Manager']],
    },
  },
  lumen: {
    delimiter: ';',
    decimal: ',',
    thousands: '.',
    date: (iso) => `${iso.slice(8, 10)}/${iso.slice(5, 7)}/${iso.slice(0, 4)}`,
    columns: {
      [NAV]: [['isin', 'Code ISIN'], ['shareClassName', 'Libellé part'], ['navDate', 'Date VL'], ['nav', 'VL'], ['currency', 'Devise'], ['lei', 'Code LEI'], ['totalNetAssets', 'Actif net'], ['sharesOutstanding', 'Nombre de parts']],
      [HOLDINGS]: [['fundIsin', 'ISIN Fonds'], ['holdingIsin', 'ISIN Titre'], ['holdingName', 'Nom Titre'], ['weight', 'Poids (%)'], ['marketValue', 'Valeur de marché'], ['currency', 'Devise'], ['asOfDate', 'Date position']],
      [REFERENCE]: [['isin', 'Code ISIN'], ['fundName', 'Nom du fonds'], ['lei', 'Code LEI'], ['currency', 'Devise'], ['domicile', 'Domicile'], ['assetClass', "Classe d'actifs"], ['manager', 'Société de gestion']],
    },
  },
  atlas: {
    delimiter: ',',
    decimal: '.',
    thousands: ',',
    date: (iso) => `${iso.slice(5, 7)}/${iso.slice(8, 10)}/${iso.slice(0, 4)}`,
    columns: {
      [NAV]: [['isin', 'Fund Identifier'], ['shareClassName', 'Class Name'], ['navDate', 'Price Date'], ['nav', 'Net Asset Value'], ['currency', 'CCY'], ['lei', 'Entity LEI'], ['totalNetAssets', 'Fund AUM'], ['sharesOutstanding', 'Units']],
      [HOLDINGS]: [['fundIsin', 'Portfolio ISIN'], ['holdingIsin', 'Security ISIN'], ['holdingName', 'Security Description'], ['weight', 'Pct of NAV'], ['marketValue', 'Mkt Val'], ['currency', 'CCY'], ['asOfDate', 'Position Date']],
      [REFERENCE]: [['isin', 'Fund Identifier'], ['fundName', 'Legal Name'], ['lei', 'Entity LEI'], ['currency', 'CCY'], ['domicile', 'Country'], ['assetClass', 'Asset Type'], ['manager', 'Investment Manager']],
    },
  },
  emt: {
    delimiter: ';',
    decimal: '.',
    thousands: '',
    date: (iso) => iso,
    columns: {
      [NAV]: [],
      [HOLDINGS]: [],
      [REFERENCE]: [
        ['emtVersion', '00001_EMT_Version'],
        ['manager', '00002_EMT_Producer_Name'],
        ['isin', '00010_Financial_Instrument_Identifying_Data'],
        ['idType', '00020_Type_Of_Identification_Code_For_The_Financial_Instrument'],
        ['fundName', '00030_Financial_Instrument_Name'],
        ['currency', '00040_Financial_Instrument_Currency'],
        ['referenceDate', '00050_General_Reference_Date'],
        ['manager', '00070_Financial_Instrument_Manufacturer_Name'],
        ['lei', '00073_Financial_Instrument_Manufacturer_LEI'],
        ['retail', '01010_Investor_Type_Retail'],
        ['ongoingCosts', '07020_Financial_Instrument_Ongoing_Costs_Ex_Ante'],
      ],
    },
  },
  openfunds: {
    delimiter: ',',
    decimal: '.',
    thousands: '',
    date: (iso) => iso,
    columns: {
      [NAV]: [
        ['isin', 'OFST020000'],
        ['currency', 'OFST020540'],
        ['fundCurrency', 'OFST010410'],
        ['domicile', 'OFST010010'],
        ['navDate', 'OFDY010010'],
        ['nav', 'OFDY010020'],
        ['sharesOutstanding', 'OFDY010030'],
        ['classNetAssets', 'OFDY010040'],
        ['fundNetAssets', 'OFDY010050'],
      ],
      [HOLDINGS]: [],
      [REFERENCE]: [],
    },
  },
}

/** Decimals each numeric field is written with. */
export const DECIMALS: Readonly<Record<string, number>> = { nav: 4, totalNetAssets: 2, classNetAssets: 2, fundNetAssets: 2, sharesOutstanding: 0, weight: 2, marketValue: 2, ongoingCosts: 4, idType: 0 }
/** Fields written with digit grouping by providers that group (amounts, not prices or weights). */
const GROUPED = new Set(['totalNetAssets', 'sharesOutstanding', 'marketValue'])
const DATE_FIELDS = new Set(['navDate', 'asOfDate', 'referenceDate'])

export function formatNumber(value: number, decimals: number, decimal: '.' | ',', thousands: string): string {
  const fixed = Math.abs(value).toFixed(decimals)
  const [whole = '0', fraction] = fixed.split('.')
  const grouped = thousands === '' ? whole : whole.replace(/\B(?=(\d{3})+(?!\d))/g, thousands)
  return `${value < 0 ? '-' : ''}${grouped}${fraction === undefined ? '' : `${decimal}${fraction}`}`
}

export interface RenderOptions {
  /** Canonical fields whose column is left out (header and rows). */
  readonly drop?: readonly string[]
  /** 0-based data row that gets one cell too many (a malformed row). */
  readonly extraCellRow?: number
  /** FundsXML only: a closing tag left out (not well-formed), or the root in a namespace the profile does not accept. */
  readonly xml?: 'malformed' | 'wrong-namespace'
}

/** A file's text in the provider's layout: its delimiter, column names, dates and numbers. */
export function renderCsv(provider: CsvProvider, kind: FileKind, rows: readonly CanonicalRow[], options: RenderOptions = {}): string {
  const layout = LAYOUTS[provider]
  const columns = layout.columns[kind].filter(([field]) => !(options.drop ?? []).includes(field))
  const cell = (field: string, value: string | number | undefined): string => {
    if (value === undefined) return ''
    if (typeof value === 'number') {
      const grouping = GROUPED.has(field) ? layout.thousands : ''
      return csvCell(formatNumber(value, DECIMALS[field] ?? 2, layout.decimal, grouping), layout.delimiter)
    }
    return csvCell(DATE_FIELDS.has(field) ? layout.date(value) : value, layout.delimiter)
  }
  const lines = [columns.map(([, column]) => csvCell(column, layout.delimiter)).join(layout.delimiter)]
  rows.forEach((row, i) => {
    const cells = columns.map(([field]) => cell(field, row[field]))
    if (i === options.extraCellRow) cells.push('see note')
    lines.push(cells.join(layout.delimiter))
  })
  return `${lines.join('\r\n')}\r\n`
}

export type Encoding = 'utf-8' | 'utf-8-bom' | 'latin1'

export function encodeText(text: string, encoding: Encoding): Buffer {
  if (encoding === 'latin1') return iconv.encode(text, 'latin1')
  const body = Buffer.from(text, 'utf8')
  return encoding === 'utf-8-bom' ? Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body]) : body
}
