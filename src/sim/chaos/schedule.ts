import { Faker, base, en } from '@faker-js/faker'

/** Every fault `pipeline load --chaos` knows; a run injects each of them once, in a seeded order. */
export const CHAOS_FAULTS = ['worker-kill', 'worker-pause', 'client-kill', 'redis-pause', 'redis-restart', 'redis-kill', 'poison-burst', 'dependency-down'] as const
export type ChaosFaultKind = (typeof CHAOS_FAULTS)[number]

export type PlannedFault =
  | { readonly kind: 'worker-kill'; readonly atFraction: number; readonly stage: string; readonly restartAfterMs: number }
  | { readonly kind: 'worker-pause'; readonly atFraction: number; readonly stage: string; readonly holdMs: number }
  | { readonly kind: 'client-kill'; readonly atFraction: number }
  | { readonly kind: 'redis-pause'; readonly atFraction: number; readonly holdMs: number }
  | { readonly kind: 'redis-restart'; readonly atFraction: number }
  | { readonly kind: 'redis-kill'; readonly atFraction: number }
  | { readonly kind: 'poison-burst'; readonly atFraction: number; readonly count: number; readonly types: readonly string[] }
  /** deliver's output folder unwritable (a plain file in its place) for `holdMs`. */
  | { readonly kind: 'dependency-down'; readonly atFraction: number; readonly holdMs: number }

export interface ScheduleOptions {
  readonly seed: number
  /** Stages that run as worker processes (targets of worker faults). */
  readonly stages: readonly string[]
  /** Event types some stage reads (where poison goes). */
  readonly poisonTypes: readonly string[]
  /** A paused worker stays stopped this much longer than the visibility timeout, at least. */
  readonly visibilityTimeoutMs: number
}

/**
 * The faults of one chaos run, deterministic in the seed: which, in what order, against which
 * stage, for how long, and when, as a fraction of the day's files published. Spacing them by
 * files rather than wall time keeps a run repeatable on a slow machine.
 */
export function chaosSchedule(options: ScheduleOptions): PlannedFault[] {
  const f = new Faker({ locale: [en, base] })
  f.seed(options.seed)
  const kinds = f.helpers.shuffle([...CHAOS_FAULTS])
  // Different stages: the paused stage's standby runs from the start, and would take over a kill instead.
  const [killed, paused] = f.helpers.shuffle([...options.stages]) as [string, string]
  const slot = 0.85 / kinds.length
  return kinds.map((kind, i): PlannedFault => {
    // One fault per slot of the day, somewhere in its middle: never two at once, none at the very end.
    const atFraction = round(0.05 + slot * (i + f.number.float({ min: 0.2, max: 0.8 })))
    switch (kind) {
      case 'worker-kill':
        return { kind, atFraction, stage: killed, restartAfterMs: f.number.int({ min: 100, max: 1_000 }) }
      case 'worker-pause':
        return { kind, atFraction, stage: paused, holdMs: options.visibilityTimeoutMs + f.number.int({ min: 1_000, max: 2_500 }) }
      case 'redis-pause':
        // Past 4 s the blocking reads' watchdog (block + grace) fires as well.
        return { kind, atFraction, holdMs: f.number.int({ min: 1_500, max: 5_500 }) }
      case 'dependency-down':
        return { kind, atFraction, holdMs: f.number.int({ min: 2_000, max: 5_000 }) }
      case 'poison-burst':
        return { kind, atFraction, count: f.number.int({ min: 5, max: 25 }), types: f.helpers.arrayElements(options.poisonTypes, { min: 1, max: 3 }) }
      default:
        return { kind, atFraction }
    }
  })
}

const round = (x: number): number => Math.round(x * 10_000) / 10_000

/** One line for people: `redis-pause 3.2 s`, `worker-kill of map`. */
export function describeFault(fault: PlannedFault): string {
  switch (fault.kind) {
    case 'worker-kill':
      return `kill -9 of the ${fault.stage} worker, restarted after ${fault.restartAfterMs} ms`
    case 'worker-pause':
      return `SIGSTOP of the ${fault.stage} worker for ${(fault.holdMs / 1000).toFixed(1)} s, a standby taking over`
    case 'client-kill':
      return 'CLIENT KILL of every client connection'
    case 'redis-pause':
      return `SIGSTOP of Redis for ${(fault.holdMs / 1000).toFixed(1)} s`
    case 'redis-restart':
      return 'graceful restart of Redis (SIGTERM, start from the AOF)'
    case 'redis-kill':
      return 'kill -9 of Redis under appendfsync always, then a restart'
    case 'poison-burst':
      return `${fault.count} poison events on ${fault.types.join(', ')}`
    case 'dependency-down':
      return `deliver's output folder unwritable (a plain file in its place) for ${(fault.holdMs / 1000).toFixed(1)} s`
  }
}
