import type { ErrorObject } from 'ajv'

/** One reason a payload breaks its contract: a JSON Pointer into the payload and why. */
export interface ContractViolation {
  /** JSON Pointer to the failing value, e.g. `/records/3/isin`; `''` is the payload itself. */
  readonly path: string
  readonly reason: string
}

// Messages list at most this many violations; details carry them all.
const MAX_IN_MESSAGE = 10

function pointerToken(name: string): string {
  return name.replaceAll('~', '~0').replaceAll('/', '~1')
}

/**
 * Turns ajv errors into violations that point at the failing field itself: ajv reports a
 * missing or extra property at its parent, which is not where a reader looks.
 */
export function toViolations(errors: readonly ErrorObject[]): ContractViolation[] {
  const out: ContractViolation[] = []
  const seen = new Set<string>()
  for (const error of errors) {
    let path = error.instancePath
    let reason = error.message ?? `fails "${error.keyword}"`
    const params = error.params as Record<string, unknown>
    if (error.keyword === 'required' && typeof params.missingProperty === 'string') {
      path = `${path}/${pointerToken(params.missingProperty)}`
      reason = 'is required'
    } else if (error.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
      path = `${path}/${pointerToken(params.additionalProperty)}`
      reason = 'is not allowed by the contract'
    } else if (error.keyword === 'enum' && Array.isArray(params.allowedValues)) {
      reason = `must be one of ${params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`
    } else if (error.keyword === 'const') {
      reason = `must be ${JSON.stringify(params.allowedValue)}`
    }
    // allErrors with anyOf/oneOf can report the same thing twice.
    const id = `${path}\0${reason}`
    if (seen.has(id)) continue
    seen.add(id)
    out.push({ path, reason })
  }
  return out
}

/** `/a/b must be string; /c is required` (capped, with a count of the rest). */
export function formatViolations(violations: readonly ContractViolation[]): string {
  const shown = violations
    .slice(0, MAX_IN_MESSAGE)
    .map((v) => `${v.path === '' ? '(payload)' : v.path} ${v.reason}`)
  const rest = violations.length - shown.length
  return rest > 0 ? `${shown.join('; ')}; and ${rest} more` : shown.join('; ')
}
