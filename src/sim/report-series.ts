// Time series a load run records for its HTML report (`pipeline load --report`): each file's
// latency by when it ended, and each stage's lag and pending as the run's sampler sees them.
// drive-day.ts only calls the two hooks; the bucketing happens here, once, at the end.

/** What the report charts, times in seconds since the first file was published. */
export interface LoadSeries {
  /** Epoch ms of the first publish (time 0 of every chart; chaos faults count from it too). */
  readonly startMs: number
  /** Width of a time bucket: one second, a quarter of one for runs under a minute (else they chart two points). */
  readonly bucketMs: number
  /** Per bucket of the run (by when files ended): p50 and p99 of their latency, and how many ended. */
  readonly latency: { readonly t: number[]; readonly p50: number[]; readonly p99: number[]; readonly files: number[] }
  /** File latency histogram: `counts[i]` files took at most `upperMs[i]` (and more than the bucket before). */
  readonly histogram: { readonly upperMs: number[]; readonly counts: number[] }
  /** Per bucket: the largest lag and pending each stage showed in it (null lag: Redis could not tell). */
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
    const startMs = this.files.reduce((a, f) => Math.min(a, f.receivedMs), this.samples[0]?.atMs ?? this.now())
    const endMs = Math.max(this.samples.at(-1)?.atMs ?? startMs, this.files.reduce((a, f) => Math.max(a, f.endedMs), startMs))
    const bucketMs = endMs - startMs < 60_000 ? 250 : 1_000
    return { startMs, bucketMs, latency: this.latency(startMs, bucketMs), histogram: histogram(this.files.map((f) => f.endedMs - f.receivedMs)), stages: this.stages(startMs, bucketMs) }
  }

  private latency(startMs: number, bucketMs: number): LoadSeries['latency'] {
    const byBucket = new Map<number, number[]>()
    for (const f of this.files) {
      const s = Math.max(0, Math.floor((f.endedMs - startMs) / bucketMs))
      const bucket = byBucket.get(s)
      if (bucket) bucket.push(f.endedMs - f.receivedMs)
      else byBucket.set(s, [f.endedMs - f.receivedMs])
    }
    const out = { t: [] as number[], p50: [] as number[], p99: [] as number[], files: [] as number[] }
    for (const s of [...byBucket.keys()].sort((a, b) => a - b)) {
      const values = (byBucket.get(s) as number[]).sort((a, b) => a - b)
      out.t.push((s * bucketMs) / 1000)
      out.p50.push(quantile(values, 0.5))
      out.p99.push(quantile(values, 0.99))
      out.files.push(values.length)
    }
    return out
  }

  private stages(startMs: number, bucketMs: number): LoadSeries['stages'] {
    const names = [...new Set(this.samples.flatMap((s) => s.figures.map((f) => f.consumer)))]
    const byBucket = new Map<number, { lag: (number | null)[]; pending: number[] }>()
    for (const sample of this.samples) {
      const s = Math.max(0, Math.floor((sample.atMs - startMs) / bucketMs))
      const row = byBucket.get(s) ?? { lag: names.map(() => 0), pending: names.map(() => 0) }
      for (const f of sample.figures) {
        const i = names.indexOf(f.consumer)
        const before = row.lag[i]
        row.lag[i] = f.lag === null || before === null || before === undefined ? null : Math.max(before, f.lag)
        row.pending[i] = Math.max(row.pending[i] ?? 0, f.pending)
      }
      byBucket.set(s, row)
    }
    const t = [...byBucket.keys()].sort((a, b) => a - b)
    return {
      names,
      t: t.map((s) => (s * bucketMs) / 1000),
      lag: names.map((_, i) => t.map((s) => byBucket.get(s)?.lag[i] ?? null)),
      pending: names.map((_, i) => t.map((s) => byBucket.get(s)?.pending[i] ?? 0)),
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
