import { BaseCommand } from '../cli/base-command.js'
import { breakerFlags, changeBreakerByHand } from '../cli/breaker-change.js'
import type { BreakerChange } from '../pipeline/pause.js'

export default class Pause extends BaseCommand {
  static override summary = "Pause a consumer by hand (maintenance): open its breaker, so its instances take no event until resume."
  static override description = "Every instance of the consumer, in every process, stops taking events within a read's block time; what it holds stays pending, uncommitted, and nothing is dead-lettered. It does not probe: only `pipeline resume` closes a breaker opened by hand."

  static override examples = ['<%= config.bin %> pause --consumer deliver', '<%= config.bin %> pause --consumer deliver --json']
  static override enableJsonFlag = true
  static override flags = breakerFlags('pause')

  async run(): Promise<BreakerChange> {
    const { flags } = await this.parse(Pause)
    const { change, line } = await changeBreakerByHand(flags, 'pause')
    if (!this.jsonEnabled()) this.log(line)
    return change
  }
}
