import type { Awaited, Trace, TraceNode, TraceReason } from '../../pipeline/inspect/index.js'
import { terminalSafe as safe } from '../safe-text.js'

/** One line of the tree: the branch drawing before it, and the node. */
export interface TraceRow {
  readonly prefix: string
  /** The drawing before lines shown beneath the node, above its children (a rejection's reasons). */
  readonly below: string
  readonly node: TraceNode
}

/** Reasons of a rejection shown in the tree; `--json` has them all. */
const REASONS_SHOWN = 5

/** The causation tree, depth first, each node after its cause, siblings in index order. */
export function traceRows(trace: Trace): TraceRow[] {
  const rows: TraceRow[] = []
  const walk = (nodes: readonly TraceNode[], indent: string, top: boolean) => {
    nodes.forEach((node, i) => {
      const last = i === nodes.length - 1
      const childIndent = top ? '' : `${indent}${last ? '   ' : '│  '}`
      rows.push({ prefix: top ? '' : `${indent}${last ? '└─ ' : '├─ '}`, below: `${childIndent}${node.children.length > 0 ? '│  ' : '   '}`, node })
      walk(node.children, childIndent, false)
    })
  }
  walk(trace.roots, '', true)
  return rows
}

export function formatMs(value: number): string {
  if (value < 1_000) return `${value} ms`
  if (value < 60_000) return `${(value / 1000).toFixed(2)} s`
  return `${Math.floor(value / 60_000)} min ${Math.round((value % 60_000) / 1000)} s`
}

/** `HH:MM:SS.mmm` (UTC) of an ISO time. */
export function timeOfDay(iso: string): string {
  return iso.length >= 23 ? iso.slice(11, 23) : iso
}

/** The one-line headline of a journey. */
export function statusLine(trace: Trace): string {
  const counts = `${trace.events} event${trace.events === 1 ? '' : 's'}, ${trace.deadLetters} dead letter${trace.deadLetters === 1 ? '' : 's'}, ${formatMs(trace.elapsedMs)} from first to last`
  if (trace.status === 'complete') return `${safe((trace.outcome ?? '').split('.').pop() ?? '')} (${safe(trace.outcome ?? '')}) · ${counts}`
  if (trace.status === 'stuck') return `stuck: nothing is pending and it was not finished${trace.deadLetters > 0 ? ' (see the dead letters)' : ''} · ${counts}`
  return `in progress · ${counts}`
}

/** "waiting for pipeline.file.scored (score: queued)". */
export function awaitedLine(a: Awaited): string {
  const what = safe(a.types.join(' or '))
  const consumer = safe(a.consumer)
  if (a.paused !== undefined) {
    const next = a.paused.nextProbeAt === null ? `until \`pipeline resume --consumer ${consumer}\`` : `next probe ${timeOfDay(a.paused.nextProbeAt)}`
    return `waiting for ${what} behind ${consumer}'s open breaker (paused: ${safe(a.paused.lastError.split('\n')[0] ?? '')}, since ${timeOfDay(a.paused.since)}, ${next})`
  }
  if (a.state === 'joining') return `waiting for ${what} (${consumer}: handled its input, needs ${safe(a.needs.join(' and ')) || 'more input'})`
  if (a.state === 'retrying') return `waiting for ${what} (${consumer}: retrying, ${a.failedAttempts} failed attempt${a.failedAttempts === 1 ? '' : 's'} so far)`
  return `waiting for ${what} (${consumer}: queued)`
}

/** "isin-check-digit: row 3, column ISIN, value "LU000000000X": check digit does not match". */
export function reasonLine(r: TraceReason): string {
  const where = [r.row === undefined ? '' : `row ${r.row}`, r.column === undefined ? '' : `column ${r.column}`, r.value === undefined ? '' : `value ${JSON.stringify(r.value)}`].filter((w) => w !== '')
  return safe(`${r.rule}${where.length > 0 ? `: ${where.join(', ')}` : ''}${r.message === '' ? '' : ` · ${r.message}`}`)
}

/** The reason lines of a node: the first few, then how many more `--json` lists. */
export function reasonLines(reasons: readonly TraceReason[]): string[] {
  const shown = reasons.slice(0, REASONS_SHOWN).map(reasonLine)
  return reasons.length > REASONS_SHOWN ? [...shown, `… ${reasons.length - REASONS_SHOWN} more (--json lists every reason)`] : shown
}
