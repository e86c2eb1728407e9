import { Args, Flags } from '@oclif/core'
import type { RedeliverySummary } from '../../bus/index.js'
import { BaseCommand } from '../../cli/base-command.js'
import { projectConsumer } from '../../cli/consumers.js'
import { configFlag, openProject } from '../../cli/project.js'
import { redisFlags } from '../../cli/flags.js'
import { EventspineError } from '../../errors.js'
import { terminalSafe as safe } from '../../ui/safe-text.js'

export default class DlqReplay extends BaseCommand {
  static override summary = 'Re-deliver dead letters to the consumer that dead-lettered them.'
  static override description =
    'Runs the consumer\'s handler (the pipeline as installed now, with your fix) on each original event and commits its effects ' +
    'atomically with the removal of the dead letter: an entry disappears only once its re-delivery is committed. One that ' +
    'fails again stays, with its new error (and a new id). An event the consumer already committed is removed without effect. ' +
    'Exits 1 when any re-delivery failed, or when dead letters were chosen and none could be re-delivered (no handler here); ' +
    'an unknown --consumer is a usage error (exit 2).'

  static override examples = [
    '<%= config.bin %> dlq replay score:1764086400000-0',
    '<%= config.bin %> dlq replay --all --consumer validate',
    '<%= config.bin %> dlq replay --all --json',
  ]

  static override strict = false
  static override enableJsonFlag = true
  static override args = { ids: Args.string({ description: 'Dead-letter ids (consumer:entry id; with partitions consumer:partition/entry id), as `dlq list` shows them.' }) }
  static override flags = {
    ...redisFlags,
    ...configFlag,
    all: Flags.boolean({ summary: 'Every dead letter (of --consumer when given).' }),
    consumer: Flags.string({ summary: 'With --all: only this consumer.' }),
    'out-dir': Flags.string({ summary: 'Where deliver writes output files. Default: .pipeline/out, as `pipeline up`.' }),
  }

  async run(): Promise<RedeliverySummary> {
    const { argv, flags } = await this.parse(DlqReplay)
    const ids = argv as string[]
    if (flags.all === (ids.length > 0)) {
      throw new EventspineError('E_DLQ_NOTHING_CHOSEN', flags.all ? 'pass dead-letter ids or --all, not both' : 'no dead letters chosen', {
        hint: 'Pass dead-letter ids (`pipeline dlq list` shows them), or --all (with --consumer to limit it to one consumer).',
      })
    }
    const { dlqReplay } = await import('../../pipeline/repair.js')
    const project = await openProject(flags.config)
    const consumer = flags.consumer === undefined ? undefined : projectConsumer(project, flags.consumer)
    const summary = await dlqReplay({ url: flags['redis-url'], namespace: flags.namespace, outDir: flags['out-dir'], ids, all: flags.all, consumer, source: project })
    if (!this.jsonEnabled()) this.log(render(summary))
    const replayed = summary.delivered + summary.duplicates + summary.failed
    if (summary.skipped > 0 && replayed === 0) {
      // Dead letters were there and none was touched: a script must not read that as done.
      process.stderr.write(`Nothing was re-delivered: all ${summary.skipped} chosen dead letter${summary.skipped === 1 ? ' was' : 's were'} skipped (see above).\n`)
      process.exitCode = 1
    }
    if (summary.failed > 0) process.exitCode = 1
    return summary
  }
}

function render(s: RedeliverySummary): string {
  const lines = s.results.map((r) => {
    if (r.outcome === 'delivered') return `delivered  ${safe(r.id)} (event ${safe(r.eventId)}, ${r.emitted} emitted)`
    if (r.outcome === 'duplicate') return `removed    ${safe(r.id)} (event ${safe(r.eventId)} was already committed: nothing applied)`
    if (r.outcome === 'failed') return `FAILED     ${safe(r.id)}: ${safe(r.error)} (still in the DLQ as ${safe(r.newId)})`
    return `skipped    ${safe(r.id)}: ${safe(r.reason)}`
  })
  if (s.results.length === 0) return 'No dead letters to replay.'
  lines.push('', `${s.delivered} delivered, ${s.duplicates} already committed, ${s.failed} failed again, ${s.skipped} skipped.`)
  return lines.join('\n')
}
