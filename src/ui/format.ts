import { LATENCY_WINDOW, type FileOutcome, type OutboxFigures, type ReloadNote, type StageFigures } from '../pipeline/host/figures.js'
import type { PartitionsView } from '../pipeline/host/status.js'
import { terminalSafe as safe } from './safe-text.js'

/** Columns of the stage table, shared by the dashboard, plain lines and `pipeline status`. */
export const COLUMNS = [
  { title: 'STAGE', width: 13, align: 'left' },
  { title: 'HANDLED', width: 9, align: 'right' },
  { title: '/S', width: 8, align: 'right' },
  { title: 'LAG', width: 7, align: 'right' },
  { title: 'PENDING', width: 8, align: 'right' },
  { title: 'RETRIES', width: 8, align: 'right' },
  { title: 'DEAD', width: 6, align: 'right' },
  { title: 'P50', width: 8, align: 'right' },
  { title: 'P99', width: 8, align: 'right' },
] as const

export function formatMs(ms: number | null): string {
  if (ms === null) return '-'
  if (ms < 1_000) return `${Math.round(ms)}ms`
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)}s`
  return `${(ms / 60_000).toFixed(1)}m`
}

export function formatRate(perSecond: number | null): string {
  if (perSecond === null) return '-'
  return perSecond >= 100 ? String(Math.round(perSecond)) : perSecond.toFixed(1)
}

/** The cells of one stage, in COLUMNS order. DEAD is what the dead-letter stream holds now, as `dlq list` shows it. */
export function stageCells(s: StageFigures): string[] {
  return [safe(s.stage), String(s.handled), formatRate(s.perSecond), String(s.lag ?? '?'), String(s.pending), String(s.retries), String(s.deadLetterBacklog), formatMs(s.p50Ms), formatMs(s.p99Ms)]
}

const lastPart = (type: string) => safe(type.split('.').pop() ?? type)

/**
 * What the columns mean, under the table (dashboard, plain log, `status`): HANDLED counts input
 * events (a join such as deliver counts one of each input per file), DEAD is now, p50/p99 hold
 * for a window and say `-` when it is empty.
 */
export function figuresLegend(stages: readonly StageFigures[]): string[] {
  const several = stages.filter((s) => (s.reads?.length ?? 0) > 1)
  const per = several.map((s) => (s.reads.length > 3 ? `${safe(s.stage)} one per event of a file` : `${safe(s.stage)} ${s.reads.length} per file (${s.reads.map(lastPart).join(' + ')})`))
  return [
    `HANDLED: input events, not files${per.length > 0 ? `; ${per.join(', ')}` : ''}.`,
    'DEAD: entries in the dead-letter streams now, as `pipeline dlq list` shows them.',
    `P50/P99: stage latency in this process over ${LATENCY_WINDOW}; - when nothing was committed.`,
  ]
}

/**
 * `pipeline status` with more than one partition: which instance owns each partition of each
 * consumer (from the leases), where a consumer is paused, and what waits in each outbox.
 */
export function partitionLines(view: PartitionsView): string[] {
  const width = Math.max(8, ...view.consumers.map((c) => c.consumer.length))
  return [
    `Partitions: ${view.count}; owner of each (instance holding its lease)`,
    ...view.consumers.map((c) => `  ${safe(c.consumer).padEnd(width)}  ${c.partitions.map((p) => `${p.partition}:${p.owner === null ? 'unowned' : safe(p.owner)}`).join('  ')}`),
    ...view.consumers.filter((c) => c.paused.length > 0).map((c) => `  ${safe(c.consumer)} paused in partition${c.paused.length === 1 ? '' : 's'} ${c.paused.join(', ')}`),
    `Outbox (cross-partition emits waiting for the relay): ${view.outbox.map((n, p) => `${p}:${n}`).join('  ')}`,
  ]
}

/**
 * One line per paused stage, `deliver paused: <last error>, since 10:02:03, next probe 10:02:07`,
 * under the table of the dashboard and `pipeline status`: why a stage takes no events.
 */
export function pausedLines(stages: readonly StageFigures[]): string[] {
  return stages.flatMap((s) => {
    const b = s.breaker
    if (b === undefined || !b.open) return []
    const next = b.nextProbeAt === null ? `until \`pipeline resume --consumer ${safe(s.stage)}\`` : `next probe ${clockTime(new Date(b.nextProbeAt).toISOString())}`
    return [`${safe(s.stage)} paused: ${safe(firstLine(b.lastError))}, since ${clockTime(new Date(b.since).toISOString())}, ${next}`]
  })
}

const firstLine = (text: string) => (text.split('\n')[0] ?? '').slice(0, 200)

export function padCell(text: string, index: number): string {
  const column = COLUMNS[index]
  if (column === undefined) return text
  return column.align === 'left' ? text.padEnd(column.width) : text.padStart(column.width)
}

/** The stage table as plain text (header + one row per stage). */
export function stageTable(stages: readonly StageFigures[]): string {
  const row = (cells: readonly string[]) => cells.map(padCell).join(' ').trimEnd()
  return [row(COLUMNS.map((c) => c.title)), ...stages.map((s) => row(stageCells(s)))].join('\n')
}

/** One line per stage for logs and CI: `key=value` pairs, easy to grep. */
export function stageLine(time: string, s: StageFigures): string {
  return (
    `${time} ${safe(s.stage)} handled=${s.handled} rate=${formatRate(s.perSecond)}/s lag=${s.lag ?? '?'} pending=${s.pending} ` +
    `retries=${s.retries} dead=${s.deadLetterBacklog} p50=${formatMs(s.p50Ms)} p99=${formatMs(s.p99Ms)}`
  )
}

/** HH:MM:SS of an ISO time, local. */
export function clockTime(iso: string): string {
  const d = new Date(iso)
  return Number.isNaN(d.getTime()) ? '--:--:--' : d.toTimeString().slice(0, 8)
}

export function outcomeLine(o: FileOutcome): string {
  return `${o.outcome.padEnd(9)} ${safe(o.fileName)}  ${safe(o.detail)}  [${safe(o.correlationId)}]`
}

/** What `pipeline up` prints first when there is no dashboard (and `status` reuses). */
export function upBanner(info: {
  redis: string
  redisSource: string
  namespace: string
  inbox: string | null
  outDir: string
  http: string | null
  console?: string | null
  outbox?: { displayUrl: string; source: string } | null
}): string {
  return [
    `pipeline up: redis ${safe(info.redis)} (${info.redisSource}), namespace ${safe(info.namespace)}`,
    ...(info.inbox === null ? [] : [`  inbox  ${safe(info.inbox)}  (drop files here, or run \`pipeline publish FILE\`)`]),
    `  out    ${safe(info.outDir)}`,
    ...(info.http === null ? [] : [`  http   ${info.http}  (/health /metrics /files/:correlationId /funds/:isin)`]),
    ...(info.console ? [consoleLine(info.console)] : []),
    ...(info.outbox ? [`  outbox ${safe(info.outbox.displayUrl)} (${info.outbox.source})  (relayed into the streams: writeOutbox in your transaction)`] : []),
  ].join('\n')
}

/** The console's address with this run's token: whoever opens it may replay and purge dead letters. */
export function consoleLine(url: string): string {
  return `  console ${url}  (open it in a browser: the token in it lets the page replay and purge)`
}

/** "outbox postgres://app@db/orders: 12 waiting (oldest 0.4 s), 310/s, 2 dead, 9000 relayed here" (dashboard, plain lines). */
export function outboxLine(f: OutboxFigures): string {
  const rate = f.perSecond >= 10 ? Math.round(f.perSecond).toString() : f.perSecond.toFixed(1)
  return `outbox ${safe(f.database)}: ${f.backlog} waiting (oldest ${f.lagSeconds.toFixed(1)} s), ${rate}/s, ${f.deadLettered} dead, ${f.published} relayed here`
}

/** "reloaded 14:02:11: restarted audit" or "reload failed 14:02:11, still running the previous version: <why>". */
export function reloadLine(note: ReloadNote): string {
  if (!note.ok) return `reload failed ${clockTime(note.at)}, still running the previous version: ${safe(note.error ?? '')}`
  const parts = [
    note.restarted.length > 0 ? `restarted ${note.restarted.join(', ')}` : '',
    note.added.length > 0 ? `started ${note.added.join(', ')}` : '',
    note.removed.length > 0 ? `stopped ${note.removed.join(', ')}` : '',
  ].filter((p) => p !== '')
  return `reloaded ${clockTime(note.at)}: ${safe(parts.length === 0 ? 'no consumer changed' : parts.join('; '))}`
}

/** What `pipeline pause` and `pipeline resume` print. */
export function breakerChangeLine(c: { consumer: string; action: 'pause' | 'resume'; changed: boolean }): string {
  const name = safe(c.consumer)
  if (c.action === 'pause') {
    return c.changed
      ? `${name} paused: its instances take no new event until \`pipeline resume --consumer ${name}\` (what they hold stays pending, uncommitted).`
      : `${name} was paused by hand already.`
  }
  return c.changed ? `${name} resumed: its breaker is closed, its instances take events again.` : `${name} was not paused (its breaker is closed).`
}
