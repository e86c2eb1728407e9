import type { FileKind } from '../pipeline/types.js'
import { DECIMALS, type CanonicalRow, type RenderOptions } from './layouts.js'

/** A namespace no FundsXML 4 profile accepts: the wrong-namespace fault. */
export const FOREIGN_NAMESPACE = 'urn:example:fundsxml:draft-5'

const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

/** An element with text; nothing when the value is absent or its field dropped. */
function el(name: string, value: string | number | undefined, field: string, drop: readonly string[], attrs = ''): string {
  if (value === undefined || value === '' || drop.includes(field)) return ''
  const text = typeof value === 'number' ? value.toFixed(DECIMALS[field] ?? 2) : value
  return `<${name}${attrs}>${escape(text)}</${name}>`
}

const str = (v: string | number | undefined): string => (v === undefined ? '' : String(v))

/**
 * A FundsXML 4 document of one fund, as `fixtures/mapping-profiles/fundsxml.json` reads it: a
 * NAV document (fund total and share classes with prices) or a positions document (portfolio
 * positions, securities in AssetMasterData by UniqueID). Rows are the generator's canonical rows.
 */
export function renderFundsXml(kind: FileKind, rows: readonly CanonicalRow[], options: RenderOptions = {}): string {
  const drop = options.drop ?? []
  const first = rows[0] ?? {}
  const ns = options.xml === 'wrong-namespace' ? ` xmlns="${FOREIGN_NAMESPACE}"` : ''
  const head = `<?xml version="1.0" encoding="UTF-8"?>\n<FundsXML4${ns} xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="FundsXML4.xsd">`
  const control = `<ControlData><ContentDate>${escape(str(first.navDate ?? first.asOfDate))}</ContentDate><Language>EN</Language></ControlData>`
  let funds: string
  let assets = ''
  if (rows.length === 0) funds = '<Funds/>'
  else if (kind === 'nav') {
    const ccy = ` ccy="${escape(str(first.fundCurrency))}"`
    const classes = rows.map(
      (r) =>
        `<ShareClass><Identifiers>${el('ISIN', r.isin, 'isin', drop)}${el('FIGI', r.figi, 'figi', drop)}</Identifiers>` +
        `<Names>${el('OfficialName', r.shareClassName, 'shareClassName', drop)}</Names>${el('Currency', r.currency, 'currency', drop)}` +
        `<Prices><Price>${el('NavDate', r.navDate, 'navDate', drop)}${el('NavPrice', r.nav, 'nav', drop)}</Price></Prices>` +
        `${el('SharesOutstanding', r.sharesOutstanding, 'sharesOutstanding', drop)}` +
        `<TotalAssetValues><TotalAssetValue>${el('NavDate', r.navDate, 'navDate', drop)}<TotalNetAssetValue>${el('Amount', r.classNetAssets, 'classNetAssets', drop, ccy)}</TotalNetAssetValue></TotalAssetValue></TotalAssetValues></ShareClass>`,
    )
    funds =
      `<Funds><Fund><Identifiers>${el('LEI', first.lei, 'lei', drop)}</Identifiers><Currency>${escape(str(first.fundCurrency))}</Currency>` +
      `<FundDynamicData><TotalAssetValues><TotalAssetValue>${el('NavDate', first.navDate, 'navDate', drop)}<TotalNetAssetValue>${el('Amount', first.fundNetAssets, 'fundNetAssets', drop, ccy)}</TotalNetAssetValue></TotalAssetValue></TotalAssetValues></FundDynamicData>` +
      `<SingleFund><ShareClasses>${classes.join('\n')}</ShareClasses></SingleFund></Fund></Funds>`
  } else {
    const positions = rows.map(
      (r, i) =>
        `<Position><UniqueID>P${i + 1}</UniqueID>${el('Currency', r.currency, 'currency', drop)}` +
        `<TotalValue>${el('Amount', r.marketValue, 'marketValue', drop, ` ccy="${escape(str(r.currency))}"`)}</TotalValue>${el('TotalPercentage', r.weight, 'weight', drop)}</Position>`,
    )
    assets = `<AssetMasterData>${rows.map((r, i) => `<Asset><UniqueID>P${i + 1}</UniqueID><Identifiers>${el('ISIN', r.holdingIsin, 'holdingIsin', drop)}</Identifiers>${el('Name', r.holdingName, 'holdingName', drop)}<AssetType>EQ</AssetType></Asset>`).join('\n')}</AssetMasterData>`
    funds =
      `<Funds><Fund><FundDynamicData><Portfolios><Portfolio>${el('NavDate', first.asOfDate, 'asOfDate', drop)}<Positions>${positions.join('\n')}</Positions></Portfolio></Portfolios></FundDynamicData>` +
      `<SingleFund><ShareClasses><ShareClass><Identifiers>${el('ISIN', first.fundIsin, 'fundIsin', drop)}</Identifiers></ShareClass></ShareClasses></SingleFund></Fund></Funds>`
  }
  // Not well-formed: the Funds element is never closed, as when an export stops half-way.
  if (options.xml === 'malformed') funds = funds.replace(/<\/Funds>$/, '')
  return `${head}\n${control}\n${funds}\n${assets}${assets === '' ? '' : '\n'}</FundsXML4>\n`
}
