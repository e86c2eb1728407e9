import { EventspineError } from '../errors.js'
import { FILE_KINDS, type FileKind } from '../pipeline/types.js'
import { isIsoDate } from './calendar.js'
import { isProviderName, PROVIDERS, type Manifest, type ProviderName } from './types.js'

export interface DaySummary {
  readonly date: string
  readonly seed: number
  readonly files: number
  readonly expectedEvents: number
  readonly bytes: number
  readonly byKind: Record<string, number>
  readonly byOutcome: Record<string, number>
  readonly byFault: Record<string, number>
  /** Files arriving after the 17:00 cut-off, as a share of all NAV files. */
  readonly navAfterCutOff: number
}

const count = (into: Record<string, number>, key: string): void => {
  into[key] = (into[key] ?? 0) + 1
}

export function summariseDay(manifest: Manifest): DaySummary {
  const byKind: Record<string, number> = {}
  const byOutcome: Record<string, number> = {}
  const byFault: Record<string, number> = {}
  let navs = 0
  let late = 0
  let bytes = 0
  for (const f of manifest.files) {
    count(byKind, f.kind)
    count(byOutcome, f.expected.outcome)
    for (const fault of f.faults) count(byFault, fault)
    bytes += f.bytes
    if (f.kind === 'nav') {
      navs++
      if (f.arrivalMs >= 17 * 3_600_000) late++
    }
  }
  return { date: manifest.date, seed: manifest.seed, files: manifest.files.length, expectedEvents: manifest.expectedEvents, bytes, byKind, byOutcome, byFault, navAfterCutOff: navs === 0 ? 0 : Math.round((100 * late) / navs) / 100 }
}

// The options of a generated day, read from the text of `generate`'s and `load`'s flags (their
// `parse`, through cli/flags' parsedBy, which makes these errors usage errors).

export function parseEventsPerDay(text: string): number {
  const value = Number(text)
  if (!/^\s*\d+\s*$/.test(text) || value < 1 || value > 5_000_000) {
    throw new EventspineError('E_FLAG', `--events-per-day ${text} is out of range`, { hint: 'Use a whole number from 1 to 5,000,000, e.g. --events-per-day 200000.' })
  }
  return value
}

export function parseFaultRate(text: string): number {
  const value = text.trim() === '' ? NaN : Number(text)
  if (!(value >= 0 && value <= 1)) {
    throw new EventspineError('E_FLAG', `--faults ${text} is not a rate`, { hint: 'Use a share of files between 0 and 1, e.g. --faults 0.02 for 2%.' })
  }
  return value
}

export function parseDayDate(text: string): string {
  if (!isIsoDate(text)) throw new EventspineError('E_FLAG', `--date ${text} is not a date`, { hint: 'Use YYYY-MM-DD, e.g. --date 2026-11-20.' })
  return text
}

/** One item of the comma list `--kinds`. */
export function parseKind(text: string): FileKind {
  const kind = text.trim()
  if (!(FILE_KINDS as readonly string[]).includes(kind)) {
    throw new EventspineError('E_FLAG', `--kinds names ${kind === '' ? 'no kind' : `unknown kind ${kind}`}`, { hint: `Use a comma list of ${FILE_KINDS.join(', ')}.` })
  }
  return kind as FileKind
}

export function parseProvider(text: string): ProviderName {
  const provider = text.trim()
  if (!isProviderName(provider)) {
    throw new EventspineError('E_FLAG', `--providers names ${provider === '' ? 'no provider' : `unknown provider ${provider}`}`, { hint: `Use a comma list of ${PROVIDERS.join(', ')}.` })
  }
  return provider
}

/** `max` or `<N>x` (N may be fractional) -> the load driver's speed. */
export function parseSpeed(text: string): 'max' | number {
  if (text.trim().toLowerCase() === 'max') return 'max'
  const match = /^\s*(\d+(?:\.\d+)?)\s*x?\s*$/i.exec(text)
  const value = match === null ? NaN : Number(match[1])
  if (!(value > 0)) throw new EventspineError('E_FLAG', `--speed ${text} is not a speed`, { hint: "Use 'max' (as fast as the pipeline goes) or a multiple of real time such as 60x." })
  return value
}
