/** What a long run reports as it goes. */
export interface ProgressState {
  readonly done: number
  readonly total: number
  /** Items per second so far (e.g. events/s). */
  readonly rate?: number
  readonly rateUnit?: string
  readonly note?: string
  /** Time left when the caller knows better than the share done (a paced schedule); null: not known yet. */
  readonly etaMs?: number | null
}

export interface Progress {
  update(state: ProgressState): void
  /** A line of its own above the bar (the bar is redrawn on the next update). */
  log(line: string): void
  finish(message?: string): void
}

const WIDTH = 28

/**
 * A progress bar on stderr: redrawn in place with rate and ETA on a TTY (at most 10 times a
 * second); on anything else (CI logs, pipes) a plain line every 10% so logs stay readable.
 */
export function createProgress(label: string, stream: NodeJS.WriteStream = process.stderr, now: () => number = () => performance.now()): Progress {
  const tty = stream.isTTY === true
  const started = now()
  let lastDraw = 0
  let lastDecile = -1
  const line = (s: ProgressState): string => {
    const share = s.total === 0 ? 1 : Math.min(1, s.done / s.total)
    const elapsed = (now() - started) / 1000
    // Nothing done yet says nothing about the time left: '-', not "0s".
    const byShare = share >= 1 ? 0 : share > 0 ? Math.round((elapsed / share) * (1 - share)) : null
    const etaS = s.etaMs === undefined ? byShare : s.etaMs === null ? null : Math.round(s.etaMs / 1000)
    const eta = etaS === null ? '-' : `${etaS}s`
    const bar = `${'#'.repeat(Math.round(share * WIDTH))}${'-'.repeat(WIDTH - Math.round(share * WIDTH))}`
    const rate = s.rate === undefined ? '' : `  ${Math.round(s.rate).toLocaleString('en-US')} ${s.rateUnit ?? '/s'}`
    const note = s.note === undefined ? '' : `  ${s.note}`
    return `${label} [${bar}] ${(share * 100).toFixed(0).padStart(3)}%  ${s.done.toLocaleString('en-US')}/${s.total.toLocaleString('en-US')}${rate}  ETA ${eta}${note}`
  }
  return {
    update(state) {
      if (tty) {
        const t = now()
        if (t - lastDraw < 100) return
        lastDraw = t
        stream.write(`\r${line(state)}\x1b[K`)
        return
      }
      const decile = state.total === 0 ? 10 : Math.floor((10 * state.done) / state.total)
      if (decile > lastDecile) {
        lastDecile = decile
        stream.write(`${line(state)}\n`)
      }
    },
    log(text) {
      stream.write(tty ? `\r\x1b[K${text}\n` : `${text}\n`)
      lastDraw = 0
    },
    finish(message) {
      if (tty) stream.write('\r\x1b[K')
      if (message !== undefined) stream.write(`${label} ${message}\n`)
    },
  }
}
