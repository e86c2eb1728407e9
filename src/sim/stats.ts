import * as hdr from 'hdr-histogram-js'

export interface LatencySummary {
  readonly count: number
  readonly p50: number
  readonly p95: number
  readonly p99: number
  readonly max: number
  readonly mean: number
}

/**
 * End-to-end latency per file in ms, kept in an HdrHistogram (3 significant digits, up to an
 * hour). Stream entry ids have ms resolution, so 0 means "under a millisecond".
 */
export class LatencyRecorder {
  private readonly histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000, numberOfSignificantValueDigits: 3 })

  record(ms: number): void {
    this.histogram.recordValue(Math.max(0, Math.min(3_600_000, Math.round(ms))))
  }

  summary(): LatencySummary {
    const h = this.histogram
    if (h.totalCount === 0) return { count: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 }
    // A percentile is reported as its bucket's highest equivalent value (3 digits): never above the max.
    const at = (p: number): number => Math.min(h.getValueAtPercentile(p), h.maxValue)
    return {
      count: h.totalCount,
      p50: at(50),
      p95: at(95),
      p99: at(99),
      max: h.maxValue,
      mean: Math.round(h.mean * 10) / 10,
    }
  }
}

