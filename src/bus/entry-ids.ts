/**
 * Redis stream entry ids ("<ms>-<seq>", or "<ms>" where Redis takes that for "<ms>-0"):
 * ordering, neighbours and time, in one place.
 */

/** Orders entry ids as Redis does, exactly (sequences go up to 2^64) and without allocating (hot: called per committed event). */
export function compareEntryIds(a: string, b: string): number {
  const ad = dash(a)
  const bd = dash(b)
  return compareDigits(a, 0, ad, b, 0, bd) || compareDigits(a, ad + 1, a.length, b, bd + 1, b.length)
}

/** The greatest possible id below `id`: a group created there delivers `id` next. */
export function previousEntryId(id: string): string {
  const [ms = '0', seq = '0'] = id.split('-')
  if (seq !== '0') return `${ms}-${BigInt(seq) - 1n}`
  return ms === '0' ? '0' : `${BigInt(ms) - 1n}-18446744073709551615`
}

/** The smallest possible id above `id`. */
export function nextEntryId(id: string): string {
  const [ms = '0', seq = '0'] = id.split('-')
  return `${ms}-${BigInt(seq) + 1n}`
}

/** Milliseconds since the epoch at which the entry was added. */
export function entryTime(id: string): number {
  return Number(id.slice(0, dash(id)))
}

function dash(id: string): number {
  const at = id.indexOf('-')
  return at < 0 ? id.length : at
}

/** Compares two runs of decimal digits (no leading zeros, as Redis writes them); an empty run is 0. */
function compareDigits(a: string, aFrom: number, aTo: number, b: string, bFrom: number, bTo: number): number {
  const al = aFrom >= aTo || (aTo - aFrom === 1 && a.charCodeAt(aFrom) === 48) ? 0 : aTo - aFrom
  const bl = bFrom >= bTo || (bTo - bFrom === 1 && b.charCodeAt(bFrom) === 48) ? 0 : bTo - bFrom
  if (al !== bl) return al - bl
  for (let i = 0; i < al; i++) {
    const d = a.charCodeAt(aFrom + i) - b.charCodeAt(bFrom + i)
    if (d !== 0) return d
  }
  return 0
}
