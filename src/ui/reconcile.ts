import type { Reconciliation } from '../pipeline/reconcile/index.js'
import { diffTable } from './diff-table.js'
import { formatDuration } from './progress/progress.js'

/** Names left, figures right; `textLast`: the last column is text too (left). */
function table(rows: readonly (readonly string[])[], textLast = false): string[] {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)))
  const left = (i: number, n: number) => i === 0 || (textLast && i === n - 1)
  return rows.map((r) => `  ${r.map((c, i) => (left(i, r.length) ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ')}`.trimEnd())
}

const short = (type: string) => type.split('.').pop() as string

/** `pipeline reconcile`'s report: counts, state, money, then what does not add up. */
export function reconciliationLines(r: Reconciliation): string[] {
  const lines = [`Reconciliation, entries ${r.window.from} .. ${r.window.to}`, '', 'Files (each received file: one ending, or in flight)']
  const endings = [...new Set(r.files.groups.flatMap((g) => Object.keys(g.endings)))].sort()
  if (r.files.groups.length === 0) lines.push('  no file received in the window')
  else {
    lines.push(...table([
      ['provider / kind', 'received', ...endings.map(short), 'in flight', 'unexplained'],
      ...r.files.groups.map((g) => [`${g.provider} / ${g.kind}`, String(g.received), ...endings.map((e) => String(g.endings[e] ?? 0)), String(g.inFlight), String(g.unexplained)]),
    ]))
  }
  for (const f of r.files.inFlight) lines.push(`  in flight: ${f.fileName} (${f.correlationId}), ${formatDuration(f.ageMs / 1000)} old, ${f.waitingAt}`)
  lines.push('', 'Consumers (read = committed + dead-lettered + pending)')
  lines.push(...table([['consumer', 'read', 'committed', 'dead-lettered', 'pending', 'unaccounted'], ...r.flow.consumers.map((c) => [c.consumer, String(c.read), String(c.committed), String(c.deadLettered), String(c.pending), String(c.unaccounted)])]))
  lines.push('', 'Streams (appended = acknowledged + pending + lag, per group)')
  lines.push(...table([['stream', 'appended', 'groups'], ...r.flow.streams.map((s) => [s.stream, String(s.appended), s.groups.map((g) => `${g.consumer} ${g.acknowledged}+${g.pending}+${g.lag ?? '?'}`).join(', ')])], true))
  for (const s of r.states) {
    const c = s.comparison
    lines.push('', `State: ${s.left} against ${s.right}: ${c.leftRows} rows | ${c.rightRows} rows, ${c.equalRows} equal, ${c.differing} different`)
    lines.push(...diffTable(c.differences, [s.left, s.right]))
    if (c.differing > c.differences.length) lines.push(`    ... and ${c.differing - c.differences.length} more`)
  }
  if (r.money) {
    lines.push('', `Money: ${r.money.readModel} against the latest delivered NAV document per fund`)
    lines.push(...table([['fund', 'NAV date', 'total net assets', 'NAV x shares (document)', `NAV x shares (${r.money.readModel})`], ...r.money.funds.map((f) => [f.fund, f.navDate, f.totalNetAssets === null ? '-' : f.totalNetAssets.toFixed(2), f.documentSum.toFixed(2), f.readModelSum.toFixed(2)])]))
  }
  for (const t of r.translations) {
    lines.push('', `Translation ${t.consumer}: ${t.from} -> ${t.to}: ${t.old} old events, ${t.translated} translated once, ${t.waiting} waiting, ${t.deadLettered} dead-lettered, ${t.missing.length} missing, ${t.twice.length} twice`)
  }
  lines.push('')
  if (r.unexplained.length === 0) lines.push('Everything adds up.')
  else lines.push(`${r.unexplained.length} unexplained:`, ...r.unexplained.map((u) => `  - ${u}`))
  return lines
}
