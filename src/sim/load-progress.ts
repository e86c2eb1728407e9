/** What a load run is doing now: the bar says it, so a paced run's wait is not a frozen "0%". */
export type LoadPhase = 'warming-up' | 'waiting' | 'publishing' | 'draining'

export interface LoadProgress {
  readonly done: number
  readonly total: number
  readonly eventsPerSecond: number
  readonly phase: LoadPhase
  /** Time left: the paced schedule's remaining span, or the rate so far; null until it can be told. */
  readonly etaMs: number | null
  /** While waiting: the next file's arrival (day time, HH:MM:SS) and how long until it is due. */
  readonly nextArrival: string | null
  readonly waitMs: number | null
}

/** Shorter waits are the pace itself, not worth a word. */
export const WAIT_WORTH_SAYING_MS = 1_000

/** HH:MM:SS of a time of day in ms. */
export function dayTime(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19)
}

/**
 * Time left. A paced run (`--speed 600x`) follows the manifest's clock: what is left of the
 * schedule. Otherwise, and once everything is published, files still to end at the rate they
 * have ended since the phase began. Null until a rate exists.
 */
export function loadEtaMs(input: {
  readonly now: number
  readonly phaseStart: number
  readonly endedAtPhaseStart: number
  readonly ended: number
  readonly total: number
  /** When the last file is due (paced runs, before it is published); null otherwise. */
  readonly lastDueAt: number | null
}): number | null {
  if (input.lastDueAt !== null) return Math.max(0, input.lastDueAt - input.now)
  const endedNow = input.ended - input.endedAtPhaseStart
  if (endedNow <= 0) return null
  return Math.max(0, ((input.now - input.phaseStart) / endedNow) * (input.total - input.ended))
}

/** The few words after the bar. */
export function loadNote(p: LoadProgress, speed: 'max' | number): string {
  if (p.phase === 'warming-up') return 'warming up: files before the window, at max speed'
  if (p.phase === 'waiting') return `waiting for the next arrival (${p.nextArrival ?? '?'} day time, due in ${Math.ceil((p.waitMs ?? 0) / 1000)}s at ${speed}x)`
  if (p.phase === 'draining') return 'all published; waiting for the last files to end'
  return speed === 'max' ? 'publishing at max speed' : `publishing at ${speed}x`
}
