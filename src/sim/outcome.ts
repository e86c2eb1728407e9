import type { Expected, ManifestFile } from './types.js'

/** What happened to a file, as observed at the end of its journey. */
export type Actual =
  | { readonly outcome: 'delivered'; readonly flags: readonly string[] }
  | { readonly outcome: 'rejected'; readonly stage: string; readonly rules: readonly string[] }
  | { readonly outcome: 'duplicate'; readonly of: string }
  | { readonly outcome: 'missing' }

export interface Mismatch {
  readonly file: string
  readonly faults: readonly string[]
  readonly expected: Expected
  readonly actual: Actual
  readonly why: string
}

const distinctSorted = (values: Iterable<string>): string[] => [...new Set(values)].sort()
export { distinctSorted }

const same = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((v, i) => v === b[i])

/** Null when the file ended as the manifest says; otherwise why not. */
export function compareOutcome(file: ManifestFile, actual: Actual): Mismatch | null {
  const e = file.expected
  const miss = (why: string): Mismatch => ({ file: file.name, faults: file.faults, expected: e, actual, why })
  if (actual.outcome === 'missing') return miss('no delivered, rejected or duplicate event arrived')
  if (actual.outcome !== e.outcome) return miss(`expected ${e.outcome}, got ${actual.outcome}`)
  if (e.outcome === 'delivered' && actual.outcome === 'delivered' && !same(e.flags, actual.flags)) {
    return miss(`expected flags [${e.flags.join(', ')}], got [${actual.flags.join(', ')}]`)
  }
  if (e.outcome === 'rejected' && actual.outcome === 'rejected' && (e.stage !== actual.stage || !same(e.rules, actual.rules))) {
    return miss(`expected rejection at ${e.stage} for [${e.rules.join(', ')}], got ${actual.stage} for [${actual.rules.join(', ')}]`)
  }
  if (e.outcome === 'duplicate' && actual.outcome === 'duplicate' && e.of !== actual.of) {
    return miss(`expected a duplicate of ${e.of}, got one of ${actual.of}`)
  }
  return null
}

/** One line for people: `name: expected X, got Y`. */
export function describe(outcome: Expected | Actual): string {
  switch (outcome.outcome) {
    case 'delivered':
      return outcome.flags.length === 0 ? 'delivered' : `delivered with ${outcome.flags.join(', ')}`
    case 'rejected':
      return `rejected at ${outcome.stage} (${outcome.rules.join(', ')})`
    case 'duplicate':
      return `duplicate of ${outcome.of}`
    case 'missing':
      return 'missing'
  }
}
