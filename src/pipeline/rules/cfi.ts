/**
 * ISO 10962 CFI: six letters, the first the category. Fund share classes are collective
 * investment vehicles (`C`); `X` means "not known" and is allowed in the later positions only.
 */
const CATEGORIES: Readonly<Record<string, string>> = {
  E: 'equities',
  C: 'collective investment vehicles',
  D: 'debt instruments',
  R: 'entitlements (rights)',
  O: 'listed options',
  F: 'futures',
  S: 'swaps',
  H: 'non-listed and complex listed options',
  I: 'spots',
  J: 'forwards',
  K: 'strategies',
  L: 'financing',
  T: 'referential instruments',
  M: 'others (miscellaneous)',
}

/** Why a CFI code is wrong for a share class (`expected` the category it must have, or any); null when fine. */
export function cfiProblem(value: string, expected?: string): string | null {
  if (!/^[A-Z]{6}$/.test(value)) return `"${value}" is not a CFI code (six letters, ISO 10962)`
  const category = value.charAt(0)
  const name = CATEGORIES[category]
  if (name === undefined) return `"${value}" starts with ${category}, which is no ISO 10962 category`
  if (expected !== undefined && category !== expected) {
    return `"${value}" is in category ${category} (${name}); a fund share class is ${expected} (${CATEGORIES[expected] ?? expected})`
  }
  return null
}
