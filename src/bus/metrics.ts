import * as hdr from 'hdr-histogram-js'

const MAX_MS = 24 * 3_600_000
/** Recent latency covers the last one to two windows, so a dashboard shows current traffic. */
export const LATENCY_WINDOW_MS = 10_000
const WINDOW_MS = LATENCY_WINDOW_MS

function histogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: MAX_MS, numberOfSignificantValueDigits: 2 })
}

/** What a runner reports: counts since start, latency of recent commits (p50/p99) and of all. */
export interface RunnerSnapshot {
  readonly handled: number
  readonly duplicates: number
  readonly retries: number
  readonly deadLettered: number
  readonly deferred: number
  /** Over the last 10 to 20 seconds; null when nothing was committed then (no latency, not 0 ms). */
  readonly p50Ms: number | null
  readonly p99Ms: number | null
  readonly recentCommits: number
  /** Every commit since start, and their latencies summed: a Prometheus summary's count and sum. */
  readonly commits: number
  readonly latencySumMs: number
}

/** In-process figures of one runner: counts and stage latency (publish of input to commit). */
export class RunnerMetrics {
  handled = 0
  duplicates = 0
  retries = 0
  deadLettered = 0
  /** Handled events put back to the next wave because they touched state an earlier one wrote. */
  deferred = 0
  /** Every commit since the runner started. */
  readonly latency = histogram()
  private latencySumMs = 0
  private current = histogram()
  private previous = histogram()
  private windowStart: number

  constructor(private readonly clock: () => number = Date.now) {
    this.windowStart = clock()
  }

  recordCommit(latencyMs: number): void {
    const value = Math.max(1, Math.min(latencyMs, MAX_MS))
    this.latency.recordValue(value)
    this.latencySumMs += value
    this.rotate()
    this.current.recordValue(value)
  }

  private rotate(): void {
    const now = this.clock()
    if (now - this.windowStart < WINDOW_MS) return
    // A gap longer than two windows leaves nothing recent.
    const stale = now - this.windowStart >= 2 * WINDOW_MS
    const old = this.previous
    this.previous = stale ? (old.reset(), old) : this.current
    this.current = stale ? this.current : old
    this.current.reset()
    this.windowStart = now
  }

  /** Counts since start; p50/p99 of the last 10 to 20 seconds (null when nothing was committed then: not 0 ms). */
  snapshot(): RunnerSnapshot {
    this.rotate()
    const recent = histogram()
    recent.add(this.previous)
    recent.add(this.current)
    const count = recent.totalCount
    return {
      handled: this.handled,
      duplicates: this.duplicates,
      retries: this.retries,
      deadLettered: this.deadLettered,
      deferred: this.deferred,
      p50Ms: count ? recent.getValueAtPercentile(50) : null,
      p99Ms: count ? recent.getValueAtPercentile(99) : null,
      recentCommits: count,
      commits: this.latency.totalCount,
      latencySumMs: this.latencySumMs,
    }
  }
}
