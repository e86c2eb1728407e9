import * as hdr from 'hdr-histogram-js'

const MAX_MS = 24 * 3_600_000
/** Recent latency covers the last one to two windows, so a dashboard shows current traffic. */
const WINDOW_MS = 10_000

function histogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: MAX_MS, numberOfSignificantValueDigits: 2 })
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
  private current = histogram()
  private previous = histogram()
  private windowStart: number

  constructor(private readonly clock: () => number = Date.now) {
    this.windowStart = clock()
  }

  recordCommit(latencyMs: number): void {
    const value = Math.max(1, Math.min(latencyMs, MAX_MS))
    this.latency.recordValue(value)
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

  /** Counts since start; p50/p99 of the last 10 to 20 seconds (0 when nothing was committed). */
  snapshot(): { handled: number; duplicates: number; retries: number; deadLettered: number; deferred: number; p50Ms: number; p99Ms: number } {
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
      p50Ms: count ? recent.getValueAtPercentile(50) : 0,
      p99Ms: count ? recent.getValueAtPercentile(99) : 0,
    }
  }
}
