import { Flags } from '@oclif/core'
import { toEntryBound } from '../bus/index.js'
import { BaseCommand } from '../cli/base-command.js'
import { projectConsumer } from '../cli/consumers.js'
import { durationFlag, flagError, parsedBy, redisFlags } from '../cli/flags.js'
import { configFlag, openProject } from '../cli/project.js'
import type { Reconciliation } from '../pipeline/reconcile/index.js'
import { reconciliationLines } from '../ui/reconcile.js'
import { terminalSafeLines } from '../ui/safe-text.js'

const READ_MODELS = /^[A-Za-z0-9._-]{1,64}(:[A-Za-z0-9._-]{1,64})?$/

export default class Reconcile extends BaseCommand {
  static override summary = 'Prove the pipeline right over a window: every file one ending, every read accounted for, read models and money agreeing.'
  static override description =
    'Counts: each file received in the window has exactly one ending or is in flight (its age and the stage it waits at); per ' +
    'consumer, read = committed + dead-lettered + pending; per stream, appended = acknowledged + pending + lag for each group. ' +
    'State (--state): two read models compared by key (a team maps its shapes with a consumer\'s readModel), or one against ' +
    'its rebuild from the retained log. Money (--money): the fund read model\'s NAV x shares and total net assets against ' +
    'the delivered documents. Exits 1 with the list when something does not add up.'

  static override examples = [
    '<%= config.bin %> reconcile --since 24h',
    '<%= config.bin %> reconcile --state nav-latest --money',
    '<%= config.bin %> reconcile --state nav-latest:nav-latest-v2 --json',
  ]

  static override enableJsonFlag = true
  static override flags = {
    ...redisFlags,
    ...configFlag,
    since: durationFlag('since', { summary: 'Window: files received this long ago until now (30m, 24h, 7d). Default: the whole retained log.', exclusive: ['from', 'to'] }),
    from: Flags.string({ summary: 'Window start: an entry id (1764086400000-0) or an ISO time.', parse: parsedBy((value) => (toEntryBound(value, '--from'), value)) }),
    to: Flags.string({ summary: 'Window end (inclusive): an entry id or an ISO time.', parse: parsedBy((value) => (toEntryBound(value, '--to'), value)) }),
    state: Flags.string({
      summary: 'Read models to compare: <consumer> (against its rebuild from the log) or <consumer>:<consumer>; repeatable.',
      multiple: true,
      parse: async (value) => {
        if (!READ_MODELS.test(value)) throw flagError(`--state "${value}" is not <consumer> or <consumer>:<consumer>`)
        return value
      },
    }),
    translation: Flags.string({ summary: 'A translation consumer (strangler migration): every old-type event has one new-type translation; repeatable.', multiple: true }),
    money: Flags.boolean({ summary: 'Reconcile nav-latest\'s NAVs, NAV x shares and total net assets per fund against the delivered documents.' }),
  }

  async run(): Promise<Reconciliation> {
    const { flags } = await this.parse(Reconcile)
    const { reconcilePipeline } = await import('../pipeline/reconcile/index.js')
    const project = await openProject(flags.config)
    for (const name of [...(flags.state ?? []).flatMap((spec) => spec.split(':')), ...(flags.translation ?? [])]) projectConsumer(project, name)
    const report = await reconcilePipeline({
      url: flags['redis-url'],
      namespace: flags.namespace,
      source: project,
      since: flags.since,
      from: flags.from,
      to: flags.to,
      state: flags.state,
      money: flags.money,
      translations: flags.translation,
    })
    if (!this.jsonEnabled()) this.log(terminalSafeLines(reconciliationLines(report).join('\n')))
    if (report.unexplained.length > 0) process.exitCode = 1
    return report
  }
}
