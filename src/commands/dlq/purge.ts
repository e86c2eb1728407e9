import { createInterface } from 'node:readline/promises'
import { Args, Flags } from '@oclif/core'
import type { PurgeResult } from '../../bus/index.js'
import { terminalSafe } from '../../ui/safe-text.js'
import { BaseCommand } from '../../cli/base-command.js'
import { unknownConsumer } from '../../cli/consumers.js'
import { configFlag, openProject } from '../../cli/project.js'
import { redisFlags } from '../../cli/flags.js'
import { EventspineError } from '../../errors.js'

export default class DlqPurge extends BaseCommand {
  static override summary = 'Delete dead letters for good (all, one consumer\'s, or the ones named).'
  static override description = 'Asks for confirmation on a terminal; elsewhere (scripts, CI, --json) --yes is required.'
  static override examples = ['<%= config.bin %> dlq purge --consumer score', '<%= config.bin %> dlq purge score:1764086400000-0 --yes', '<%= config.bin %> dlq purge --yes --json']
  static override strict = false
  static override args = { ids: Args.string({ description: 'Dead-letter ids, as `dlq list` shows them (consumer:entry id, or consumer:partition/entry id). Default: all.' }) }
  static override enableJsonFlag = true
  static override flags = {
    ...redisFlags,
    ...configFlag,
    consumer: Flags.string({ summary: 'Only this consumer\'s dead letters.' }),
    yes: Flags.boolean({ char: 'y', summary: 'Do not ask.' }),
  }

  async run(): Promise<{ purged: PurgeResult[] }> {
    const { argv, flags } = await this.parse(DlqPurge)
    const ids = argv as string[]
    if (ids.length > 0 && flags.consumer !== undefined) {
      throw new EventspineError('E_DLQ_NOTHING_CHOSEN', 'pass dead-letter ids or --consumer, not both', { hint: 'Ids name their consumer already (`pipeline dlq list` shows them).' })
    }
    const { dlqList, dlqPurge } = await import('../../pipeline/repair.js')
    const connection = { url: flags['redis-url'], namespace: flags.namespace, consumer: flags.consumer }
    const names = flags.consumer === undefined ? [] : (await openProject(flags.config, { quiet: true })).names
    if (flags.consumer !== undefined && !names.includes(flags.consumer)) {
      const waiting = await dlqList({ ...connection, consumer: undefined, limit: 0 })
      if (!waiting.some((c) => c.consumer === flags.consumer && c.count > 0)) throw unknownConsumer(flags.consumer, names, waiting.map((c) => c.consumer), 'once they have dead letters')
    }
    if (!flags.yes) {
      if (!process.stdin.isTTY || !process.stdout.isTTY || this.jsonEnabled()) {
        throw new EventspineError('E_CONFIRM_REQUIRED', 'purging dead letters needs confirmation', { hint: 'Pass --yes (not on a terminal, nobody can be asked).' })
      }
      const waiting = ids.length > 0 ? [] : await dlqList({ ...connection, limit: 0 })
      const total = ids.length > 0 ? ids.length : waiting.reduce((n, c) => n + c.count, 0)
      if (total === 0) {
        this.log('No dead letters.')
        return { purged: [] }
      }
      const rl = createInterface({ input: process.stdin, output: process.stdout })
      const which = ids.length > 0 ? ids.map((id) => terminalSafe(id)).join(', ') : waiting.map((c) => `${terminalSafe(c.consumer)}: ${c.count}`).join(', ')
      const answer = await rl.question(`Delete ${total} dead letter${total === 1 ? '' : 's'} (${which}) for good? [y/N] `)
      rl.close()
      if (!/^y(es)?$/i.test(answer.trim())) {
        this.log('Nothing deleted.')
        return { purged: [] }
      }
    }
    const purged = await dlqPurge({ ...connection, ids })
    if (!this.jsonEnabled()) this.log(`Purged ${purged.reduce((n, p) => n + p.purged, 0)} dead letters${purged.length > 0 ? ` (${purged.map((p) => `${terminalSafe(p.consumer)}: ${p.purged}`).join(', ')})` : ''}.`)
    return { purged }
  }
}
