import type { FileKind } from './types.js'

/** How a canonical field is normalised by map and checked by validate. */
export type FieldType = 'text' | 'code' | 'isin' | 'lei' | 'cfi' | 'figi' | 'currency' | 'date' | 'number'

export interface FieldSpec {
  readonly name: string
  readonly type: FieldType
  /** The column must be present and every row must carry a valid value (else the file is rejected). */
  readonly mandatory: boolean
  /**
   * Fields only the fund standards (FundsXML, EMT/EPT, openfunds) carry: they feed their own
   * rules but do not count towards completeness, so a CSV layout without them scores as before.
   */
  readonly standard?: true
}

/** The canonical record of each kind, as data: map, validate and the contracts all follow it. */
export const FIELD_SPECS: Readonly<Record<FileKind, readonly FieldSpec[]>> = {
  nav: [
    { name: 'isin', type: 'isin', mandatory: true },
    { name: 'shareClassName', type: 'text', mandatory: false },
    { name: 'navDate', type: 'date', mandatory: true },
    { name: 'nav', type: 'number', mandatory: true },
    { name: 'currency', type: 'currency', mandatory: true },
    { name: 'lei', type: 'lei', mandatory: false },
    { name: 'totalNetAssets', type: 'number', mandatory: false },
    { name: 'sharesOutstanding', type: 'number', mandatory: false },
    { name: 'classNetAssets', type: 'number', mandatory: false, standard: true },
    { name: 'fundNetAssets', type: 'number', mandatory: false, standard: true },
    { name: 'fundNavDate', type: 'date', mandatory: false, standard: true },
    { name: 'cfi', type: 'cfi', mandatory: false, standard: true },
    { name: 'figi', type: 'figi', mandatory: false, standard: true },
  ],
  holdings: [
    { name: 'fundIsin', type: 'isin', mandatory: true },
    { name: 'holdingIsin', type: 'isin', mandatory: true },
    { name: 'holdingName', type: 'text', mandatory: false },
    { name: 'weight', type: 'number', mandatory: true },
    { name: 'marketValue', type: 'number', mandatory: false },
    { name: 'currency', type: 'currency', mandatory: true },
    { name: 'asOfDate', type: 'date', mandatory: true },
    { name: 'assetType', type: 'text', mandatory: false, standard: true },
  ],
  reference: [
    { name: 'isin', type: 'isin', mandatory: true },
    { name: 'fundName', type: 'text', mandatory: true },
    { name: 'lei', type: 'lei', mandatory: true },
    { name: 'currency', type: 'currency', mandatory: true },
    { name: 'domicile', type: 'code', mandatory: true },
    { name: 'assetClass', type: 'text', mandatory: true },
    { name: 'manager', type: 'text', mandatory: true },
    { name: 'cfi', type: 'cfi', mandatory: false, standard: true },
    { name: 'figi', type: 'figi', mandatory: false, standard: true },
    { name: 'ongoingCosts', type: 'number', mandatory: false, standard: true },
    { name: 'sri', type: 'number', mandatory: false, standard: true },
    { name: 'mrm', type: 'number', mandatory: false, standard: true },
    { name: 'crm', type: 'number', mandatory: false, standard: true },
    { name: 'sriAdjusted', type: 'text', mandatory: false, standard: true },
    { name: 'recommendedHoldingPeriod', type: 'number', mandatory: false, standard: true },
  ],
}

/** Fields that only one kind has: a file's kind is the one whose markers its columns hit most. */
const KIND_MARKERS: Readonly<Record<FileKind, readonly string[]>> = {
  nav: ['nav', 'navDate', 'shareClassName', 'sharesOutstanding', 'totalNetAssets'],
  holdings: ['fundIsin', 'holdingIsin', 'holdingName', 'weight', 'marketValue', 'asOfDate'],
  reference: ['fundName', 'domicile', 'assetClass', 'manager'],
}

/** The kind whose marker fields the canonical column set hits most; null when none or a tie. */
export function detectKind(canonicalFields: Iterable<string>): FileKind | null {
  const present = new Set(canonicalFields)
  let best: FileKind | null = null
  let bestHits = 0
  let tie = false
  for (const kind of Object.keys(KIND_MARKERS) as FileKind[]) {
    const hits = KIND_MARKERS[kind].filter((f) => present.has(f)).length
    if (hits > bestHits) {
      best = kind
      bestHits = hits
      tie = false
    } else if (hits === bestHits && hits > 0) {
      tie = true
    }
  }
  return tie ? null : best
}

export function isFileKind(value: unknown): value is FileKind {
  return value === 'nav' || value === 'holdings' || value === 'reference'
}
