// Time series a load run records for its HTML report (`pipeline load --report`): each file's
// latency by when it ended, and each stage's lag and pending as the run's sampler sees them.
// drive-day.ts only calls the two hooks; the bucketing happens here, once, at the end.

/** What the report charts, times in seconds since the first file was published. */
export interface LoadSeries {
  /** Epoch ms of the first publish (time 0 of every chart; chaos faults count from it too). */
  readonly startMs: number
  /** Per second of the run (by the second files ended in): p50 and p99 of their latency, and how many ended. */
  readonly latency: { readonly t: number[]; readonly p50: number[]; readonly p99: number[]; readonly files: number[] }
  /** File latency histogram: `counts[i]` files took at most `upperMs[i]` (and more than the bucket before). */
  readonly histogram: { readonly upperMs: number[]; readonly counts: number[] }
  /** Per second: the largest lag and pending each stage showed in it (null lag: Redis could not tell). */
  readonly stages: { readonly names: string[]; readonly t: number[]; readonly lag: (number | null)[][]; readonly pending: number[][] }
}

interface StageSample {
  readonly atMs: number
  readonly figures: readonly { readonly consumer: string; readonly lag: number | null; readonly pending: number }[]
}

/** 1, 2, 5, 10, 20, 50 ... ms: a latency spread over four orders of magnitude stays readable. */
const BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 60_000, 300_000, 3_600_000]

export class ReportSeries {
  private readonly files: { receivedMs: number; endedMs: number }[] = []
  private readonly samples: StageSample[] = []

  constructor(private readonly now: () => number = Date.now) {}

  /** Hook: the run's sampler read the stages' status (every 200 ms). */
  sampleStages(status: readonly { readonly consumer: string; readonly lag: number | null; readonly pending: number }[]): void {
    this.samples.push({ atMs: this.now(), figures: status.map((s) => ({ consumer: s.consumer, lag: s.lag, pending: s.pending })) })
  }

  /** Hook: a measured file was published at `receivedMs` and ended at `endedMs` (Redis times, epoch ms). */
  fileEnded(receivedMs: number, endedMs: number): void {
    this.files.push({ receivedMs, endedMs })
  }

  series(): LoadSeries {
    const startMs = this.files.length > 0 ? Math.min(...this.files.map((f) => f.receivedMs)) : (this.samples[0]?.atMs ?? this.now())
    return { startMs, latency: this.latency(startMs), histogram: histogram(this.files.map((f) => f.endedMs - f.receivedMs)), stages: this.stages(startMs) }
  }

  private latency(startMs: number): LoadSeries['latency'] {
    const bySecond = new Map<number, number[]>()
    for (const f of this.files) {
      const s = Math.max(0, Math.floor((f.endedMs - startMs) / 1000))
      bySecond.set(s, [...(bySecond.get(s) ?? []), f.endedMs - f.receivedMs])
    }
    const out = { t: [] as number[], p50: [] as number[], p99: [] as number[], files: [] as number[] }
    for (const s of [...bySecond.keys()].sort((a, b) => a - b)) {
      const values = (bySecond.get(s) as number[]).sort((a, b) => a - b)
      out.t.push(s)
      out.p50.push(quantile(values, 0.5))
      out.p99.push(quantile(values, 0.99))
      out.files.push(values.length)
    }
    return out
  }

  private stages(startMs: number): LoadSeries['stages'] {
    const names = [...new Set(this.samples.flatMap((s) => s.figures.map((f) => f.consumer)))]
    const bySecond = new Map<number, { lag: (number | null)[]; pending: number[] }>()
    for (const sample of this.samples) {
      const s = Math.max(0, Math.floor((sample.atMs - startMs) / 1000))
      const row = bySecond.get(s) ?? { lag: names.map(() => 0), pending: names.map(() => 0) }
      for (const f of sample.figures) {
        const i = names.indexOf(f.consumer)
        const before = row.lag[i]
        row.lag[i] = f.lag === null || before === null || before === undefined ? null : Math.max(before, f.lag)
        row.pending[i] = Math.max(row.pending[i] ?? 0, f.pending)
      }
      bySecond.set(s, row)
    }
    const t = [...bySecond.keys()].sort((a, b) => a - b)
    return {
      names,
      t,
      lag: names.map((_, i) => t.map((s) => bySecond.get(s)?.lag[i] ?? null)),
      pending: names.map((_, i) => t.map((s) => bySecond.get(s)?.pending[i] ?? 0)),
    }
  }
}

/** The nearest-rank quantile of sorted values. */
function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0
}

function histogram(latencies: readonly number[]): LoadSeries['histogram'] {
  const counts = BUCKETS.map(() => 0)
  for (const ms of latencies) {
    const i = BUCKETS.findIndex((b) => ms <= b)
    counts[i < 0 ? BUCKETS.length - 1 : i]! += 1
  }
  // Trailing empty buckets say nothing: the chart ends at the slowest file's bucket.
  const last = counts.reduce((at, c, i) => (c > 0 ? i : at), 0)
  return { upperMs: BUCKETS.slice(0, last + 1), counts: counts.slice(0, last + 1) }
}
