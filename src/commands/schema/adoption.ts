import { Flags } from '@oclif/core'
import { toEntryBound } from '../../bus/index.js'
import { BaseCommand } from '../../cli/base-command.js'
import { durationFlag, parsedBy, redisFlags } from '../../cli/flags.js'
import { configFlag, openProject } from '../../cli/project.js'
import type { AdoptionReport } from '../../pipeline/adoption.js'
import { adoptionLines } from '../../ui/adoption.js'
import { terminalSafeLines } from '../../ui/safe-text.js'

export default class SchemaAdoption extends BaseCommand {
  static override summary = 'During a contract migration: events appended per type and version, who wrote them, and which consumers read which version.'
  static override description =
    'Counts the window\'s entries of each type by contract version and by producer version (the envelope\'s producerVersion), ' +
    'and classifies every registered consumer: the version it is written for (its `reads`, else the latest), which versions ' +
    'it reads natively, through an upcaster, or skips as the other copy of a dual-published event. Adoption of a version is ' +
    'the share of registered readers written for it.'

  static override examples = [
    '<%= config.bin %> schema adoption',
    '<%= config.bin %> schema adoption --type orders.placed --since 24h --json',
  ]

  static override enableJsonFlag = true
  static override flags = {
    ...redisFlags,
    ...configFlag,
    type: Flags.string({ summary: 'Only this event type; repeatable.', multiple: true }),
    since: durationFlag('since', { summary: 'Window: entries appended this long ago until now (30m, 24h, 7d). Default: the retained log.', exclusive: ['from', 'to'] }),
    from: Flags.string({ summary: 'Window start: an entry id or an ISO time.', parse: parsedBy((value) => (toEntryBound(value, '--from'), value)) }),
    to: Flags.string({ summary: 'Window end (inclusive): an entry id or an ISO time.', parse: parsedBy((value) => (toEntryBound(value, '--to'), value)) }),
  }

  async run(): Promise<AdoptionReport> {
    const { flags } = await this.parse(SchemaAdoption)
    const { schemaAdoption } = await import('../../pipeline/adoption.js')
    const project = await openProject(flags.config)
    const report = await schemaAdoption({ url: flags['redis-url'], namespace: flags.namespace, source: project, since: flags.since, from: flags.from, to: flags.to, types: flags.type })
    if (!this.jsonEnabled()) this.log(terminalSafeLines(adoptionLines(report).join('\n')))
    return report
  }
}
