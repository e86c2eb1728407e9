import { Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base-command.js'
import { redisFlags } from '../cli/flags.js'
import type { CleanReport } from '../pipeline/clean.js'
import { terminalSafe as safe } from '../ui/safe-text.js'

export default class Clean extends BaseCommand {
  static override summary = 'List what interrupted load and fuzz runs left in Redis; remove it with --yes.'
  static override description =
    'Finds, with SCAN, the namespaces that `pipeline load` (load-<seed>-<time>) and `pipeline fuzz` (check-<tag>-<n>) runs make ' +
    'and delete when they end, left behind by a run that was killed, and the consumers of --namespace whose instances are gone. ' +
    'Without --yes it only lists them. A namespace of any other name is never touched, and one whose run still holds a lease ' +
    '(it is running now) is listed as in use and left alone.'

  static override examples = ['<%= config.bin %> clean', '<%= config.bin %> clean --yes', '<%= config.bin %> clean --yes --json']
  static override enableJsonFlag = true
  static override flags = {
    ...redisFlags,
    yes: Flags.boolean({ char: 'y', summary: 'Remove what is listed (without it, nothing is changed).' }),
  }

  async run(): Promise<CleanReport> {
    const { flags } = await this.parse(Clean)
    const { cleanLeftovers } = await import('../pipeline/clean.js')
    const report = await cleanLeftovers({ url: flags['redis-url'], namespace: flags.namespace, remove: flags.yes })
    if (!this.jsonEnabled()) this.log(render(report))
    return report
  }
}

function render(r: CleanReport): string {
  if (r.namespaces.length === 0 && r.goneConsumers.length === 0) return 'Nothing left behind: no load or fuzz namespaces, no gone consumers.'
  const lines: string[] = []
  if (r.namespaces.length > 0) lines.push(`Namespaces left by load and fuzz runs (${r.namespaces.length}):`)
  for (const n of r.namespaces) lines.push(`  ${safe(n.namespace).padEnd(28)} ${String(n.keys).padStart(6)} keys${n.live ? '  in use (a run holds a lease): left alone' : r.removed ? '  removed' : ''}`)
  if (r.goneConsumers.length > 0) lines.push(`Consumers whose instances are gone (${r.goneConsumers.length}):`, ...r.goneConsumers.map((c) => `  ${safe(c.consumer).padEnd(28)} last seen ${safe(c.lastSeenAt ?? 'never')}${r.removed ? '  removed' : ''}`))
  lines.push(r.removed ? `Removed ${r.deletedKeys} keys.` : 'Nothing removed: run `pipeline clean --yes` to remove them.')
  return lines.join('\n')
}
