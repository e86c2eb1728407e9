import type { ReferenceData } from './reference.js'
import type { EnrichedPayload, FileKind, FundReference, Issue, ValidatedPayload } from './types.js'

/** The ISIN of the fund a record is about: the share class for NAV and reference, the portfolio for holdings. */
export function fundIsinOf(kind: FileKind, fields: Readonly<Record<string, unknown>>): string | null {
  const value = kind === 'holdings' ? fields.fundIsin : fields.isin
  return typeof value === 'string' ? value : null
}

/**
 * Enrich as a pure function: looks fund reference data up by ISIN. Warnings, never fatal: a fund
 * missing from the reference data (`reference-isin`, once per fund), and a NAV whose currency
 * differs from the share class's reference currency (`reference-currency`: usually a
 * mislabelled hedged class or a stale reference row, which a person should look at).
 */
export function enrichFile(validated: ValidatedPayload, reference: ReferenceData): EnrichedPayload {
  const warnings: Issue[] = [...validated.warnings]
  const funds: Record<string, FundReference> = {}
  const unknown = new Set<string>()
  for (const record of validated.records) {
    const isin = fundIsinOf(validated.kind, record.fields)
    if (isin === null) continue
    const currency = record.fields.currency
    const known = reference.funds.get(isin)
    if (validated.kind === 'nav' && known !== undefined && typeof currency === 'string' && known.currency !== '' && known.currency !== currency) {
      warnings.push({ row: record.row, column: 'currency', value: currency, rule: 'reference-currency', message: `NAV of ${isin} is in ${currency}; the reference data says ${known.currency}` })
    }
    if (isin in funds || unknown.has(isin)) continue
    const found = known
    if (found === undefined) {
      unknown.add(isin)
      const column = validated.kind === 'holdings' ? 'fundIsin' : 'isin'
      warnings.push({ row: record.row, column, value: isin, rule: 'reference-isin', message: `fund ${isin} is not in the fund reference data` })
    } else {
      funds[isin] = { fundName: found.fundName, manager: found.manager, domicile: found.domicile, assetClass: found.assetClass }
    }
  }
  return {
    fileName: validated.fileName,
    contentHash: validated.contentHash,
    kind: validated.kind,
    provider: validated.provider,
    receivedAt: validated.receivedAt,
    rowCount: validated.rowCount,
    records: validated.records,
    funds,
    warnings,
  }
}
