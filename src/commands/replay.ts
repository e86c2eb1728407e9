import { Flags } from '@oclif/core'
import { toEntryBound, type RebuildProof, type ReplaySummary } from '../bus/index.js'
import { diffTable } from '../ui/diff-table.js'
import { terminalSafeLines } from '../ui/safe-text.js'
import { BaseCommand } from '../cli/base-command.js'
import { projectConsumer } from '../cli/consumers.js'
import { configFlag, openProject } from '../cli/project.js'
import { durationFlag, parsedBy, redisFlags } from '../cli/flags.js'
import { EventspineError } from '../errors.js'
import { formatDuration, progressLine } from '../ui/progress/progress.js'

export default class Replay extends BaseCommand {
  static override summary = 'Run one consumer again over a window of the streams it reads; --rebuild a projection.'
  static override description =
    'Reads the window (XRANGE, in entry-id order, per-key order kept) and runs the consumer as installed now, without touching ' +
    'any consumer group. What it emits flows downstream as new events (new ids; `replayOf` names the event each replaces), so ' +
    'corrected data reaches delivery. Interrupted, the same command resumes where it stopped and applies nothing twice. ' +
    '--rebuild rebuilds a projection from the start of the retained log: stopped, its state is dropped and refilled; while ' +
    'it runs, into shadow keys that catch up with the live consumer, are proved equal to its state (rows compared, counts ' +
    'printed) and swapped in one step; a difference swaps nothing, shows the rows and exits 1. --cancel abandons an unfinished one.'

  static override examples = [
    '<%= config.bin %> replay --consumer validate --since 24h',
    '<%= config.bin %> replay --consumer map --from 2026-11-24T00:00:00Z --to 2026-11-24T12:00:00Z --dry-run',
    '<%= config.bin %> replay --consumer nav-latest --rebuild',
    '<%= config.bin %> replay --consumer nav-latest --cancel',
  ]

  static override enableJsonFlag = true
  static override flags = {
    ...redisFlags,
    ...configFlag,
    consumer: Flags.string({ summary: 'The consumer to run again.', required: true }),
    since: durationFlag('since', { summary: 'Window: this long ago until now (30m, 24h, 7d).', exclusive: ['from', 'to', 'rebuild'] }),
    from: Flags.string({ summary: 'Window start: an entry id (1764086400000-0) or an ISO time.', exclusive: ['rebuild'], parse: parsedBy((value) => (toEntryBound(value, '--from'), value)) }),
    to: Flags.string({ summary: 'Window end (inclusive); default: the last entry now.', dependsOn: ['from'], parse: parsedBy((value) => (toEntryBound(value, '--to'), value)) }),
    rebuild: Flags.boolean({ summary: 'Drop the (projection) consumer\'s state and rebuild it from the whole retained log.' }),
    'dry-run': Flags.boolean({ summary: 'Only count what the window holds: no handler runs, nothing is written.' }),
    fresh: Flags.boolean({ summary: 'Abandon an unfinished replay of this consumer instead of resuming it.' }),
    cancel: Flags.boolean({ summary: 'Abandon an unfinished replay or rebuild of this consumer (and its shadow state), and stop.', exclusive: ['since', 'from', 'rebuild', 'dry-run', 'fresh'] }),
    'out-dir': Flags.string({ summary: 'Where deliver writes output files. Default: .pipeline/out, as `pipeline up`.' }),
  }

  async run(): Promise<ReplaySummary | { readonly cancelled: string | null; readonly droppedShadowKeys: number }> {
    const { flags } = await this.parse(Replay)
    if (flags.cancel) {
      const { replayCancel } = await import('../pipeline/repair.js')
      const project = await openProject(flags.config)
      const done = await replayCancel({ url: flags['redis-url'], namespace: flags.namespace, consumer: projectConsumer(project, flags.consumer), source: project })
      this.log(terminalSafeLines(done.cancelled === null ? `No unfinished replay of ${flags.consumer}: nothing to cancel.` : `Cancelled ${done.cancelled} of ${flags.consumer}; ${done.droppedShadowKeys} shadow keys dropped, live state untouched.`))
      return done
    }
    if (flags.since === undefined && flags.from === undefined && !flags.rebuild) {
      throw new EventspineError('E_REPLAY_NO_WINDOW', 'say which window to replay', { hint: 'Pass --since 24h, --from <id|time> [--to <id|time>], or --rebuild for a projection.' })
    }
    const { replayPipeline } = await import('../pipeline/repair.js')
    const project = await openProject(flags.config)
    const consumer = projectConsumer(project, flags.consumer)
    const progress = progressLine(process.stderr, `replay ${flags.consumer}`)
    try {
      const summary = await replayPipeline({
        url: flags['redis-url'],
        namespace: flags.namespace,
        outDir: flags['out-dir'],
        consumer,
        source: project,
        since: flags.since,
        from: flags.from,
        to: flags.to,
        dryRun: flags['dry-run'],
        rebuild: flags.rebuild,
        fresh: flags.fresh,
        onProgress: (p) => progress.update(p),
      })
      progress.done()
      if (!this.jsonEnabled()) for (const w of summary.warnings) process.stderr.write(`warning: ${w}\n`)
      if (!this.jsonEnabled()) this.log(terminalSafeLines(render(summary)))
      if (summary.failed > 0 || summary.online?.proof.equal === false) process.exitCode = 1
      return summary
    } finally {
      progress.done()
    }
  }
}

function render(s: ReplaySummary): string {
  const streams = Object.entries(s.window)
  const lines = [
    `${s.dryRun ? 'Dry run: would replay' : s.resumed ? 'Resumed and finished replay' : 'Replayed'} ${s.consumer} (run ${s.runId}${s.partitions ? ` and ${s.partitions.length - 1} more, one per partition` : ''})`,
    ...(streams.length === 0 ? ['  the window holds no events'] : streams.map(([type, b]) => `  ${type}: ${b.from} .. ${b.to}`)),
  ]
  if (s.dryRun) {
    lines.push(`  ${s.events} events in the window; nothing was run or written.`)
    return lines.join('\n')
  }
  if (s.rebuild && !s.online) lines.push(`  state dropped first: ${s.droppedStateKeys} keys`)
  if (s.online) lines.push('  online: rebuilt into shadow keys while the live consumer ran')
  if (s.online?.fromSnapshot) lines.push(`  started from the snapshot of ${s.online.fromSnapshot.takenAt} (${s.online.fromSnapshot.events} events): read only the tail`)
  if (s.online && s.online.snapshots > 0) lines.push(`  snapshots saved: ${s.online.snapshots}`)
  lines.push(`  ${s.events} events read, ${s.applied} applied${s.alreadyApplied > 0 ? `, ${s.alreadyApplied} already applied by the interrupted run` : ''}${s.invalid > 0 ? `, ${s.invalid} unreadable skipped` : ''} in ${formatDuration(s.elapsedMs / 1000)}`)
  if (s.partitions) lines.push(`  per partition (each its own run): ${s.partitions.map((p) => `${p.partition}: ${p.events} read, ${p.applied} applied${p.online ? (p.online.proof.swapped ? ', swapped' : ', NOT swapped') : ''}`).join('; ')}`)
  const emitted = Object.entries(s.emitted)
  if (emitted.length > 0) lines.push(`  emitted as new events: ${emitted.map(([t, n]) => `${n} ${t}`).join(', ')}`)
  if (s.failed > 0) {
    lines.push(`  ${s.failed} failed (handler threw 3 times; not applied):`)
    for (const f of s.failures) lines.push(`    ${f.stream} ${f.entryId} (event ${f.eventId}): ${f.error}`)
  }
  if (s.online) lines.push(...proofLines(s.online.deadLettered, s.online.proof))
  return lines.join('\n')
}

function proofLines(deadLettered: number, p: RebuildProof): string[] {
  const c = p.comparison
  const at = Object.entries(p.position).map(([type, id]) => `${type} ${id}`).join(', ')
  const lines = [
    `  caught up with the live group at ${at || 'nothing read yet'}${deadLettered > 0 ? ` (${deadLettered} entries it dead-lettered left out)` : ''}`,
    `  proof: live ${c.leftRows} rows, rebuilt ${c.rightRows} rows, ${c.equalRows} equal, ${c.differing} different`,
  ]
  if (p.swapped) lines.push(`  swapped in one step: ${p.renamed} ${p.renamed === 1 ? 'key' : 'keys'} replaced${p.deleted > 0 ? `, ${p.deleted} live keys without a rebuilt counterpart removed` : ''}`)
  else {
    lines.push('  NOT swapped: the live state stays as it was; the rebuilt state is dropped. Rows that differ:')
    lines.push(...diffTable(c.differences))
    if (c.differing > c.differences.length) lines.push(`    ... and ${c.differing - c.differences.length} more`)
  }
  return lines
}
