import * as hdr from 'hdr-histogram-js'

/** In-process figures of one runner: counts and stage latency (publish of input to commit). */
export class RunnerMetrics {
  handled = 0
  duplicates = 0
  retries = 0
  deadLettered = 0
  /** Handled events put back to the next wave because they touched state an earlier one wrote. */
  deferred = 0
  readonly latency = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 24 * 3_600_000, numberOfSignificantValueDigits: 2 })

  recordCommit(latencyMs: number): void {
    this.latency.recordValue(Math.max(1, Math.min(latencyMs, 24 * 3_600_000)))
  }

  snapshot(): { handled: number; duplicates: number; retries: number; deadLettered: number; p50Ms: number; p99Ms: number } {
    return {
      handled: this.handled,
      duplicates: this.duplicates,
      retries: this.retries,
      deadLettered: this.deadLettered,
      p50Ms: this.latency.totalCount ? this.latency.getValueAtPercentile(50) : 0,
      p99Ms: this.latency.totalCount ? this.latency.getValueAtPercentile(99) : 0,
    }
  }
}
