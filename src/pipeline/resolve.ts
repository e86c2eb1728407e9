import type { ReferenceData } from './reference.js'
import type { EnrichedPayload, ResolvedPayload, ResolvedRecord } from './types.js'

/** The instrument a record's identifiers describe: the held security for holdings, the share class otherwise. */
export function instrumentIsinOf(record: { readonly fields: Readonly<Record<string, unknown>> }, kind: string): string | null {
  const value = kind === 'holdings' ? record.fields.holdingIsin : record.fields.isin
  return typeof value === 'string' ? value : null
}

/** Resolve as a pure function: ISIN -> CUSIP/SEDOL/FIGI/ticker; records with no entry are counted. */
export function resolveFile(enriched: EnrichedPayload, reference: ReferenceData): ResolvedPayload {
  let unresolved = 0
  const records: ResolvedRecord[] = enriched.records.map((record) => {
    const isin = instrumentIsinOf(record, enriched.kind)
    const identifiers = isin === null ? undefined : reference.identifiers.get(isin)
    if (identifiers === undefined) {
      unresolved++
      return { ...record, identifiers: null }
    }
    return { ...record, identifiers }
  })
  return { ...enriched, records, unresolved }
}
