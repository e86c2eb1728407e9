/**
 * NAV error materiality thresholds of CSSF Circular 24/856 by fund type, as a share of the
 * NAV: money-market funds 0.20%, bond and mixed funds 0.50%, equity and other funds 1%. Score
 * flags a NAV that moved more than its fund type's threshold since the last known NAV.
 */
export type FundType = 'money-market' | 'bond' | 'mixed' | 'equity' | 'other'

export const NAV_TOLERANCE: Readonly<Record<FundType, number>> = {
  'money-market': 0.002,
  bond: 0.005,
  mixed: 0.005,
  equity: 0.01,
  other: 0.01,
}

/** The fund type of a reference-data asset class ("Money Market", "Fixed Income", "Multi-Asset"...); unknown is `other`. */
export function fundTypeOf(assetClass: string | undefined): FundType {
  const a = (assetClass ?? '').toLowerCase()
  if (/money.?market/.test(a)) return 'money-market'
  if (/bond|fixed.?income|debt/.test(a)) return 'bond'
  if (/mixed|multi.?asset|balanced|allocation/.test(a)) return 'mixed'
  if (/equit/.test(a)) return 'equity'
  return 'other'
}
