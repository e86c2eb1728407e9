import { BaseCommand } from '../cli/base-command.js'
import { breakerFlags, changeBreakerByHand } from '../cli/breaker-change.js'
import type { BreakerChange } from '../pipeline/pause.js'

export default class Resume extends BaseCommand {
  static override summary = "Resume a paused consumer: close its breaker, opened by failures or by `pipeline pause`."
  static override description = "Its instances take events again within a read's block time, oldest first per key. A breaker opened by failures also closes by itself once a probe commits; resume does it now."

  static override examples = ['<%= config.bin %> resume --consumer deliver', '<%= config.bin %> resume --consumer deliver --json']
  static override enableJsonFlag = true
  static override flags = breakerFlags('resume')

  async run(): Promise<BreakerChange> {
    const { flags } = await this.parse(Resume)
    const { change, line } = await changeBreakerByHand(flags, 'resume')
    if (!this.jsonEnabled()) this.log(line)
    return change
  }
}
