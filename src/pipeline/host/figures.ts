import { LATENCY_WINDOW_MS } from '../../bus/metrics.js'
import type { BreakerState } from '../../bus/breaker.js'
import type { ConsumerStatus } from '../../bus/status.js'
import type { RelaySummary } from '../../bus/partition-relay.js'
import type { RelayFigures } from '../../outbox/relay.js'

/** Over which time p50 and p99 hold: the metrics keep one to two windows of commits. */
export const LATENCY_WINDOW = `the last ${LATENCY_WINDOW_MS / 1000}-${(2 * LATENCY_WINDOW_MS) / 1000} s`

/** One stage's line on the dashboard, in `pipeline status` and on `/metrics`. */
export interface StageFigures {
  readonly stage: string
  /** Input events committed, all processes together (from Redis): not files (see `reads`). */
  readonly handled: number
  /** The event types the stage reads: a join (deliver: resolved + scored) handles one of each per file. */
  readonly reads: readonly string[]
  /** Handled per second since the previous snapshot; null on the first one. */
  readonly perSecond: number | null
  /** Null when Redis cannot tell (XINFO GROUPS after trims): shown as '?', never as 0. */
  readonly lag: number | null
  readonly pending: number
  readonly retries: number
  readonly duplicates: number
  readonly deadLettered: number
  /** Dead letters in the stage's dead-letter stream now (not yet replayed or purged): the DEAD column. */
  readonly deadLetterBacklog: number
  /** Stage latency (publish of the input to commit) in this process over LATENCY_WINDOW; null when not run here or nothing was committed then. */
  readonly p50Ms: number | null
  readonly p99Ms: number | null
  /** The stage's breaker: open means paused (last error, since, next probe). Absent in figures from before breakers. */
  readonly breaker?: BreakerState
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
  /** The last reload of the project's code (`up` watches what its config imports); null before any. */
  readonly reload?: ReloadNote | null
  /** The outbox relay of this host (`--outbox`, the config's outbox); absent or null without one. */
  readonly outbox?: OutboxFigures | null
  /** With P > 1 partitions: what waits in the partitions' outboxes for the relay (emits across partitions). */
  readonly partitionOutbox?: RelaySummary | null
}

/** The relay's figures with the database it relays from (password masked). */
export interface OutboxFigures extends RelayFigures {
  readonly database: string
}

/** What the last reload did: the consumers it restarted, or why the old code still runs. */
export interface ReloadNote {
  readonly at: string
  readonly ok: boolean
  /** Restarted with new code, started, or stopped (gone from the config). */
  readonly restarted: readonly string[]
  readonly added: readonly string[]
  readonly removed: readonly string[]
  /** Why the new code was not taken (the previous version keeps running). */
  readonly error: string | null
}

export interface LatencyFigures {
  /** Null when nothing was committed in the window. */
  readonly p50Ms: number | null
  readonly p99Ms: number | null
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
    return {
      stage: s.consumer,
      handled: s.handled,
      reads: s.streams.map((x) => x.stream),
      perSecond,
      lag: s.lag,
      pending: s.pending,
      retries: s.retries,
      duplicates: s.duplicates,
      deadLettered: s.deadLettered,
      deadLetterBacklog: s.deadLetterBacklog,
      p50Ms: l?.p50Ms ?? null,
      p99Ms: l?.p99Ms ?? null,
      breaker: s.breaker,
    }
  })
}
