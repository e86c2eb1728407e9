import { render } from 'ink'
import type { RuntimeSnapshot } from '../pipeline/host/figures.js'
import { Dashboard } from './Dashboard.js'
import { clockTime, figuresLegend, outboxLine, outcomeLine, reloadLine, stageLine } from './format.js'
import { terminalSafe } from './safe-text.js'

/** What the live view needs of a running pipeline. */
export interface SnapshotSource {
  snapshot(): RuntimeSnapshot
  onSnapshot(listener: (snapshot: RuntimeSnapshot) => void): () => void
}

export interface LiveOptions {
  /** Ink dashboard when true; plain periodic lines otherwise (CI, a pipe, a log file). */
  readonly tty: boolean
  readonly write: (line: string) => void
  readonly redisSource?: string
  /** Plain mode: stage lines every this many ms. Default 5000. */
  readonly plainIntervalMs?: number
  /** Resolves (or aborts) when the view should end: a signal arrived. */
  readonly until: Promise<unknown>
}

/**
 * Shows a running pipeline until `until` settles. On a TTY an ink dashboard re-rendered on each
 * snapshot; otherwise a plain line per stage every 5 s while its counts move (once a minute
 * when idle), and a line per file outcome as it happens. Returns a function that shows a final status (e.g. "stopping...").
 */
export async function showLive(source: SnapshotSource, options: LiveOptions): Promise<(status: string) => void> {
  if (options.tty) {
    const view = (snapshot: RuntimeSnapshot, status?: string) => (
      <Dashboard snapshot={snapshot} {...(options.redisSource ? { redisSource: options.redisSource } : {})} {...(status ? { status } : {})} />
    )
    const app = render(view(source.snapshot()), { exitOnCtrlC: false, patchConsole: false })
    const off = source.onSnapshot((s) => app.rerender(view(s)))
    await options.until.catch(() => {})
    off()
    return (status) => {
      app.rerender(view(source.snapshot(), status))
      app.unmount()
    }
  }
  const seen = new Set<string>()
  const report = (snapshot: RuntimeSnapshot) => {
    for (const o of [...snapshot.recent].reverse()) {
      const id = `${o.correlationId} ${o.outcome}`
      if (seen.has(id)) continue
      seen.add(id)
      options.write(`${clockTime(o.at)} ${outcomeLine(o)}`)
    }
  }
  const warned = new Set<string>()
  // An idle pipeline would repeat the same lines every few seconds: print a stage when its
  // counts moved, and every stage at least once a minute so a log still shows it is alive.
  const printed = new Map<string, string>()
  let lastAll = 0
  const stageLines = (snapshot: RuntimeSnapshot) => {
    const all = Date.now() - lastAll >= 60_000
    if (all) lastAll = Date.now()
    for (const s of snapshot.stages) {
      const counts = `${s.handled} ${s.pending} ${s.lag} ${s.retries} ${s.duplicates} ${s.deadLettered} ${s.deadLetterBacklog}`
      if (!all && printed.get(s.stage) === counts) continue
      printed.set(s.stage, counts)
      options.write(stageLine(clockTime(snapshot.at), s))
    }
    const o = snapshot.outbox
    const outboxCounts = o ? `${o.backlog} ${o.published} ${o.deadLettered}` : undefined
    if (o && (all || printed.get('\0outbox') !== outboxCounts)) {
      printed.set('\0outbox', outboxCounts as string)
      options.write(`${clockTime(snapshot.at)} ${outboxLine(o)}`)
    }
  }
  let first = true
  let reloadedAt: string | undefined
  const off = source.onSnapshot((snapshot) => {
    if (first && snapshot.stages.length > 0) {
      first = false
      // Once, before the first figures: what handled, dead and p50/p99 count (the dashboard's legend).
      for (const line of figuresLegend(snapshot.stages)) options.write(`figures: ${line}`)
      stageLines(snapshot)
    }
    report(snapshot)
    if (snapshot.reload && snapshot.reload.at !== reloadedAt) {
      reloadedAt = snapshot.reload.at
      options.write(reloadLine(snapshot.reload))
    }
    for (const w of snapshot.warnings) {
      if (warned.has(w)) continue
      warned.add(w)
      options.write(`warning: ${terminalSafe(w)}`)
    }
  })
  const timer = setInterval(() => stageLines(source.snapshot()), options.plainIntervalMs ?? 5_000)
  await options.until.catch(() => {})
  clearInterval(timer)
  off()
  return (status) => options.write(status)
}
