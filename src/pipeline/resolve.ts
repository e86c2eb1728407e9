import type { ReferenceData } from './reference.js'
import type { EnrichedPayload, Identifiers, ResolvedPayload } from './types.js'

/** The instrument a record's identifiers describe: the held security for holdings, the share class otherwise. */
export function instrumentIsinOf(record: { readonly fields: Readonly<Record<string, unknown>> }, kind: string): string | null {
  const value = kind === 'holdings' ? record.fields.holdingIsin : record.fields.isin
  return typeof value === 'string' ? value : null
}

/** Resolve as a pure function: ISIN -> CUSIP/SEDOL/FIGI/ticker; records whose instrument has no entry are counted. */
export function resolveFile(enriched: EnrichedPayload, reference: ReferenceData): ResolvedPayload {
  const identifiers: Record<string, Identifiers> = {}
  let unresolved = 0
  for (const record of enriched.records) {
    const isin = instrumentIsinOf(record, enriched.kind)
    const found = isin === null ? undefined : reference.identifiers.get(isin)
    if (isin === null || found === undefined) unresolved++
    else identifiers[isin] = found
  }
  return { ...enriched, identifiers, unresolved }
}
