import { FIELD_SPECS, type FieldSpec } from './fields.js'
import { canonicalName, type MappingProfile } from './profiles.js'
import { parseDate } from './rules/dates.js'
import { parseNumber, type NumberFormat } from './rules/numbers.js'
import type { CanonicalRecord, FieldValue, IngestedPayload, MappedPayload } from './types.js'

/** Normalises one provider value to its canonical form; null when empty or unparseable. */
export function normaliseValue(raw: string, spec: FieldSpec, profile: MappingProfile): FieldValue {
  const text = raw.trim()
  if (text === '') return null
  const numbers: NumberFormat = { decimal: profile.decimalSeparator, thousands: profile.thousandsSeparator }
  switch (spec.type) {
    case 'text':
      return text
    case 'code':
    case 'isin':
    case 'lei':
    case 'cfi':
    case 'figi':
    case 'currency':
      // Identifiers are often pasted with spaces ("US 0378331005") or in lower case.
      return text.replace(/\s+/g, '').toUpperCase()
    case 'date':
      // ISO is unambiguous, so it is accepted from every provider as well as the profile's format.
      return parseDate(text, profile.dateFormat) ?? parseDate(text, 'YYYY-MM-DD')
    case 'number':
      return parseNumber(text, numbers)
  }
}

/** Which header column feeds each canonical field of the kind; the rest are unmapped. */
export function columnPlan(header: readonly string[], specs: readonly FieldSpec[], profile: MappingProfile): { plan: Map<string, string>; unmapped: string[] } {
  const names = new Set(specs.map((s) => s.name))
  const plan = new Map<string, string>() // canonical field -> provider column
  const unmapped: string[] = []
  for (const column of header) {
    const field = canonicalName(column, profile, names)
    if (field === null || !names.has(field) || plan.has(field)) unmapped.push(column)
    else plan.set(field, column)
  }
  return { plan, unmapped }
}

/** Map as a pure function: provider rows -> canonical records under the file's mapping profile. */
export function mapFile(ingested: IngestedPayload, profile: MappingProfile): MappedPayload {
  const specs = FIELD_SPECS[ingested.kind]
  const { plan, unmapped } = columnPlan(ingested.header, specs, profile)
  const records: CanonicalRecord[] = ingested.rows.map((row, i) => {
    const fields: Record<string, FieldValue> = {}
    const raw: Record<string, string> = {}
    for (const spec of specs) {
      const column = plan.get(spec.name)
      const value = column === undefined ? '' : (row[column] ?? '')
      if (column !== undefined) raw[spec.name] = value
      fields[spec.name] = normaliseValue(value, spec, profile)
    }
    return { row: i + 1, fields, raw }
  })
  return {
    fileName: ingested.fileName,
    contentHash: ingested.contentHash,
    kind: ingested.kind,
    provider: ingested.provider,
    receivedAt: ingested.receivedAt,
    ...(profile.standard === undefined ? {} : { standard: profile.standard }),
    rowCount: records.length,
    mappedFields: [...plan.keys()],
    unmappedColumns: unmapped,
    records,
  }
}
