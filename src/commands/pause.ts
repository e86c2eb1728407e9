import { Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base-command.js'
import { unregisteredConsumer } from '../cli/consumers.js'
import { configFlag, openProject } from '../cli/project.js'
import { redisFlags } from '../cli/flags.js'
import type { BreakerChange } from '../pipeline/pause.js'
import { breakerChangeLine } from '../ui/format.js'

export default class Pause extends BaseCommand {
  static override summary = "Pause a consumer by hand (maintenance): open its breaker, so its instances take no event until resume."
  static override description = "Every instance of the consumer, in every process, stops taking events within a read's block time; what it holds stays pending, uncommitted, and nothing is dead-lettered. It does not probe: only `pipeline resume` closes a breaker opened by hand."

  static override examples = ['<%= config.bin %> pause --consumer deliver', '<%= config.bin %> pause --consumer deliver --json']
  static override enableJsonFlag = true
  static override flags = {
    ...redisFlags,
    ...configFlag,
    consumer: Flags.string({ summary: 'The consumer to pause.', required: true }),
  }

  async run(): Promise<BreakerChange> {
    const { flags } = await this.parse(Pause)
    const { changeBreaker } = await import('../pipeline/pause.js')
    const { names } = await openProject(flags.config, { quiet: true })
    const change = await changeBreaker({
      url: flags['redis-url'],
      namespace: flags.namespace,
      consumer: flags.consumer,
      action: 'pause',
      known: names,
      unknownConsumer: (registered) => unregisteredConsumer(flags.consumer, names, registered),
    })
    if (!this.jsonEnabled()) this.log(breakerChangeLine(change))
    return change
  }
}
