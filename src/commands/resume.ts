import { Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base-command.js'
import { unregisteredConsumer } from '../cli/consumers.js'
import { configFlag, openProject } from '../cli/project.js'
import { redisFlags } from '../cli/flags.js'
import type { BreakerChange } from '../pipeline/pause.js'
import { breakerChangeLine } from '../ui/format.js'

export default class Resume extends BaseCommand {
  static override summary = "Resume a paused consumer: close its breaker, opened by failures or by `pipeline pause`."
  static override description = "Its instances take events again within a read's block time, oldest first per key. A breaker opened by failures also closes by itself once a probe commits; resume does it now."

  static override examples = ['<%= config.bin %> resume --consumer deliver', '<%= config.bin %> resume --consumer deliver --json']
  static override enableJsonFlag = true
  static override flags = {
    ...redisFlags,
    ...configFlag,
    consumer: Flags.string({ summary: 'The consumer to resume.', required: true }),
  }

  async run(): Promise<BreakerChange> {
    const { flags } = await this.parse(Resume)
    const { changeBreaker } = await import('../pipeline/pause.js')
    const { names } = await openProject(flags.config, { quiet: true })
    const change = await changeBreaker({
      url: flags['redis-url'],
      namespace: flags.namespace,
      consumer: flags.consumer,
      action: 'resume',
      known: names,
      unknownConsumer: (registered) => unregisteredConsumer(flags.consumer, names, registered),
    })
    if (!this.jsonEnabled()) this.log(breakerChangeLine(change))
    return change
  }
}
