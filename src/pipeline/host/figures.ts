import type { ConsumerStatus } from '../../bus/status.js'

/** One stage's line on the dashboard and in `pipeline status`. */
export interface StageFigures {
  readonly stage: string
  /** Events committed, all processes together (from Redis). */
  readonly handled: number
  /** Handled per second since the previous snapshot; null on the first one. */
  readonly perSecond: number | null
  /** Null when Redis cannot tell (XINFO GROUPS after trims): shown as '?', never as 0. */
  readonly lag: number | null
  readonly pending: number
  readonly retries: number
  readonly duplicates: number
  readonly deadLettered: number
  /** Dead letters waiting now (not yet replayed or purged). */
  readonly deadLetterBacklog: number
  /** Stage latency (publish of the input to commit) in this process; null when not run here. */
  readonly p50Ms: number | null
  readonly p99Ms: number | null
}

/** A file that reached the end of its journey. */
export interface FileOutcome {
  readonly at: string
  readonly fileName: string
  readonly outcome: 'delivered' | 'rejected' | 'duplicate'
  readonly correlationId: string
  /** Output path and score, the rejection rules, or the first copy's correlation id. */
  readonly detail: string
}

/** What a running `pipeline up` reports every second (dashboard, runtime key, HTTP). */
export interface RuntimeSnapshot {
  readonly at: string
  readonly pid: number
  readonly namespace: string
  /** Redis URL with any password masked. */
  readonly redis: string
  readonly inbox: string | null
  readonly outDir: string
  readonly http: string | null
  readonly stages: readonly StageFigures[]
  readonly recent: readonly FileOutcome[]
  readonly warnings: readonly string[]
}

export interface LatencyFigures {
  readonly p50Ms: number
  readonly p99Ms: number
  readonly handled: number
}

/**
 * Stage figures from Redis counters plus this process's latency, as a pure function. The rate
 * is the delta of `handled` over the time since the previous snapshot.
 */
export function stageFigures(
  status: readonly ConsumerStatus[],
  latency: ReadonlyMap<string, LatencyFigures>,
  previous: { readonly handled: ReadonlyMap<string, number>; readonly elapsedMs: number } | null,
): StageFigures[] {
  return status.map((s) => {
    const before = previous?.handled.get(s.consumer)
    const perSecond =
      previous === null || before === undefined || previous.elapsedMs <= 0 ? null : Math.max(0, ((s.handled - before) * 1000) / previous.elapsedMs)
    const l = latency.get(s.consumer)
    const measured = l !== undefined && l.handled > 0
    return {
      stage: s.consumer,
      handled: s.handled,
      perSecond,
      lag: s.lag,
      pending: s.pending,
      retries: s.retries,
      duplicates: s.duplicates,
      deadLettered: s.deadLettered,
      deadLetterBacklog: s.deadLetterBacklog,
      p50Ms: measured ? l.p50Ms : null,
      p99Ms: measured ? l.p99Ms : null,
    }
  })
}
