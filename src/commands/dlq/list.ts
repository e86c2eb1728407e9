import { Flags } from '@oclif/core'
import type { DeadLetterSummary } from '../../bus/index.js'
import { BaseCommand } from '../../cli/base-command.js'
import { unknownConsumer } from '../../cli/consumers.js'
import { configFlag, openProject } from '../../cli/project.js'
import { redisFlags } from '../../cli/flags.js'
import { terminalSafe as safe } from '../../ui/safe-text.js'

export default class DlqList extends BaseCommand {
  static override summary = 'Dead letters waiting, per consumer: counts, oldest, newest, top errors.'
  static override description =
    'Reads each consumer\'s dead-letter stream (events that failed 3 times, or could never be read) and shows how many wait, ' +
    'the oldest and newest, the most frequent errors and the first few entries with the ids that `dlq show` and `dlq replay` take. ' +
    'With no pipeline running, reads the project\'s saved data (its redis-server is started for the command and stopped after).'

  static override examples = ['<%= config.bin %> dlq list', '<%= config.bin %> dlq list --consumer score --json']
  static override enableJsonFlag = true
  static override flags = {
    ...redisFlags,
    ...configFlag,
    consumer: Flags.string({ summary: 'Only this consumer.' }),
    limit: Flags.integer({ summary: 'Entries listed per consumer.', default: 20, min: 0 }),
  }

  async run(): Promise<{ consumers: DeadLetterSummary[] }> {
    const { flags } = await this.parse(DlqList)
    const { dlqList } = await import('../../pipeline/repair.js')
    const connection = { url: flags['redis-url'], namespace: flags.namespace }
    const consumers = await dlqList({ ...connection, consumer: flags.consumer, limit: flags.limit })
    if (flags.consumer !== undefined && consumers.every((c) => c.count === 0)) {
      const { names } = await openProject(flags.config, { quiet: true })
      if (!names.includes(flags.consumer)) throw unknownConsumer(flags.consumer, names, (await dlqList({ ...connection, limit: 0 })).map((c) => c.consumer), 'once they have dead letters')
    }
    if (!this.jsonEnabled()) this.log(render(consumers))
    return { consumers }
  }
}

function render(consumers: readonly DeadLetterSummary[]): string {
  if (consumers.length === 0 || consumers.every((c) => c.count === 0)) return 'No dead letters.'
  const lines: string[] = []
  for (const c of consumers) {
    lines.push(`${safe(c.consumer)}: ${c.count} dead letter${c.count === 1 ? '' : 's'}${c.oldest ? `, oldest ${safe(c.oldest.failedAt)}, newest ${safe(c.newest?.failedAt ?? '')}` : ''}`)
    if (c.topErrors.length > 0) lines.push(`  top errors${c.errorsSampled < c.count ? ` (of the newest ${c.errorsSampled})` : ''}:`)
    for (const e of c.topErrors) lines.push(`  ${String(e.count).padStart(5)} x ${safe(e.error)}`)
    for (const e of c.entries) lines.push(`    ${safe(e.id)}  ${safe(e.type ?? '(no event)')}  key ${safe(e.key ?? '-')}  attempts ${e.attempts}  ${safe(e.error)}`)
    if (c.entries.length < c.count) lines.push(`    ... ${c.count - c.entries.length} more (--limit)`)
    lines.push('')
  }
  lines.push('Inspect one with `pipeline dlq show <id>`; re-deliver with `pipeline dlq replay <id...>` or `--all`.')
  return lines.join('\n')
}
