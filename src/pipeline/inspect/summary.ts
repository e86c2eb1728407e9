/** Fields that say most about a fund file event, shown first when present. */
const FIRST = ['fileName', 'kind', 'provider', 'stage', 'rowCount', 'recordCount', 'score', 'unresolved', 'outputPath', 'firstCorrelationId']
/** Bulky or redundant fields never worth a glance on one line. */
const SKIP = new Set(['contentBase64', 'contentHash', 'header', 'rows', 'records', 'mappedFields', 'unmappedColumns', 'components', 'receivedAt'])

function short(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`
}

/**
 * A short, one-line look at a payload: scalar fields as `name=value` (well-known ones first),
 * arrays as their length (`reasons=3`), bulky fields left out, capped at `max` characters.
 */
export function summarizePayload(payload: unknown, max = 80): string {
  if (payload === null || typeof payload !== 'object') return short(JSON.stringify(payload) ?? '', max)
  if (Array.isArray(payload)) return `[${payload.length} items]`
  const record = payload as Record<string, unknown>
  const names = [...FIRST.filter((n) => n in record), ...Object.keys(record).filter((n) => !FIRST.includes(n))]
  const parts: string[] = []
  for (const name of names) {
    if (SKIP.has(name)) continue
    const value = record[name]
    if (typeof value === 'string') parts.push(`${name}=${short(value, 40)}`)
    else if (typeof value === 'number' || typeof value === 'boolean') parts.push(`${name}=${value}`)
    else if (Array.isArray(value) && value.length > 0) parts.push(`${name}=${value.length}`)
  }
  return short(parts.join(' '), max)
}
