/** What a long-running step reports: items done, share of the work covered, time spent. */
export interface ProgressSample {
  readonly done: number
  /** 0..1 */
  readonly fraction: number
  readonly elapsedMs: number
}

/** One line: a bar, percent, count, rate and ETA. Pure, for tests. */
export function formatProgress(label: string, sample: ProgressSample, width = 20): string {
  const fraction = Math.min(1, Math.max(0, sample.fraction))
  const filled = Math.round(fraction * width)
  const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`
  const seconds = sample.elapsedMs / 1000
  const rate = seconds > 0 ? sample.done / seconds : 0
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4)
  // Nothing done yet says nothing about the time left: '-', not "0s".
  const eta = fraction >= 1 ? 'done' : fraction > 0 ? formatDuration((seconds * (1 - fraction)) / fraction) : '-'
  return `${label} [${bar}] ${percent} ${sample.done} events ${formatRate(rate)}/s ETA ${eta}`
}

export function formatRate(perSecond: number): string {
  if (perSecond >= 10_000) return `${(perSecond / 1000).toFixed(0)}k`
  if (perSecond >= 1_000) return `${(perSecond / 1000).toFixed(1)}k`
  return perSecond.toFixed(0)
}

export function formatDuration(seconds: number): string {
  const s = Math.round(seconds)
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
}

/**
 * A progress line redrawn in place on a TTY (at most every `intervalMs`); nothing at all when the
 * stream is not a TTY, so logs and pipes stay clean. `done()` clears the line.
 */
export function progressLine(stream: NodeJS.WriteStream, label: string, options: { intervalMs?: number; now?: () => number } = {}): { update(sample: ProgressSample): void; done(): void } {
  const now = options.now ?? Date.now
  const interval = options.intervalMs ?? 100
  let last = 0
  let drawn = false
  return {
    update(sample) {
      if (!stream.isTTY) return
      const t = now()
      if (t - last < interval && sample.fraction < 1) return
      last = t
      const columns = stream.columns ?? 80
      stream.write(`\r${formatProgress(label, sample).slice(0, columns - 1)}\x1b[K`)
      drawn = true
    },
    done() {
      if (drawn) stream.write('\r\x1b[K')
      drawn = false
    },
  }
}
