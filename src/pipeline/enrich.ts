import type { ReferenceData } from './reference.js'
import type { EnrichedPayload, EnrichedRecord, FileKind, Issue, ValidatedPayload } from './types.js'

/** The ISIN of the fund a record is about: the share class for NAV and reference, the portfolio for holdings. */
export function fundIsinOf(kind: FileKind, fields: Readonly<Record<string, unknown>>): string | null {
  const value = kind === 'holdings' ? fields.fundIsin : fields.isin
  return typeof value === 'string' ? value : null
}

/** Enrich as a pure function: joins fund reference data by ISIN; an unknown fund is a warning. */
export function enrichFile(validated: ValidatedPayload, reference: ReferenceData): EnrichedPayload {
  const warnings: Issue[] = [...validated.warnings]
  const warned = new Set<string>()
  const records: EnrichedRecord[] = validated.records.map((record) => {
    const isin = fundIsinOf(validated.kind, record.fields)
    const found = isin === null ? undefined : reference.funds.get(isin)
    if (found === undefined) {
      if (isin !== null && !warned.has(isin)) {
        warned.add(isin) // once per fund, not once per holding line
        warnings.push({ row: record.row, column: validated.kind === 'holdings' ? 'fundIsin' : 'isin', value: isin, rule: 'reference-isin', message: `fund ${isin} is not in the fund reference data` })
      }
      return { ...record, reference: null }
    }
    return { ...record, reference: { fundName: found.fundName, manager: found.manager, domicile: found.domicile, assetClass: found.assetClass } }
  })
  return { ...withoutRecords(validated), records, warnings }
}

function withoutRecords(v: ValidatedPayload): Omit<EnrichedPayload, 'records' | 'warnings'> {
  return { fileName: v.fileName, contentHash: v.contentHash, kind: v.kind, provider: v.provider, receivedAt: v.receivedAt, rowCount: v.rowCount }
}
