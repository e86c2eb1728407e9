import { EventspineError, type ErrorCode } from './errors.js'

/** Edit distance (insertions, deletions, substitutions): small enough to keep rather than depend on a package. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min((previous[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = row
  }
  return previous[b.length] ?? 0
}

/** The known name closest to `input`, when it is close enough to be a typo (at most a third of its letters off). */
export function closestName(input: string, known: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined
  for (const name of known) {
    const distance = editDistance(input.toLowerCase(), name.toLowerCase())
    if (best === undefined || distance < best.distance) best = { name, distance }
  }
  return best !== undefined && best.distance <= Math.max(1, Math.floor(Math.max(input.length, best.name.length) / 3)) ? best.name : undefined
}

/**
 * A name that is none of the known ones, as a usage error (exit 2): "did you mean", and the
 * list to choose from. `details.usage` is what the CLI's error handler reads for the exit code.
 */
export function unknownNameError(code: ErrorCode, what: string, input: string, known: readonly string[], extraHint = ''): EventspineError {
  const closest = closestName(input, known)
  return new EventspineError(code, `unknown ${what} "${input}"${closest === undefined ? '' : `: did you mean ${closest}?`}`, {
    hint: `Known ${what}s: ${known.join(', ')}.${extraHint === '' ? '' : ` ${extraHint}`}`,
    details: { usage: true, input, known: [...known], ...(closest === undefined ? {} : { closest }) },
  })
}
