import { Args } from '@oclif/core'
import type { DeadLetter } from '../../bus/index.js'
import { BaseCommand } from '../../cli/base-command.js'
import { redisFlags } from '../../cli/flags.js'
import { terminalSafe as safe } from '../../ui/safe-text.js'

const PAYLOAD_SHOWN = 4_000

export default class DlqShow extends BaseCommand {
  static override summary = 'One dead letter: the original event, its error, the head of the stack, attempts.'
  static override examples = ['<%= config.bin %> dlq show score:1764086400000-0', '<%= config.bin %> dlq show 1764086400000-0 --json']
  static override enableJsonFlag = true
  static override args = {
    id: Args.string({ description: 'Dead-letter id as `dlq list` shows it (consumer:entry id; with partitions consumer:partition/entry id), or a bare entry id.', required: true }),
  }

  static override flags = { ...redisFlags }

  async run(): Promise<Omit<DeadLetter, 'originalFields'>> {
    const { args, flags } = await this.parse(DlqShow)
    const { dlqShow } = await import('../../pipeline/repair.js')
    const { originalFields: _fields, ...dead } = await dlqShow({ url: flags['redis-url'], namespace: flags.namespace, id: args.id })
    if (!this.jsonEnabled()) this.log(render(dead))
    return dead
  }
}

function render(d: Omit<DeadLetter, 'originalFields'>): string {
  const lines = [
    `Dead letter ${safe(d.id)}`,
    `  consumer   ${safe(d.consumer)}`,
    `  from       ${safe(d.stream)} entry ${safe(d.sourceEntryId)}`,
    `  failed at  ${safe(d.failedAt)} after ${d.attempts} attempt${d.attempts === 1 ? '' : 's'}`,
    `  error      ${safe(d.error)}`,
  ]
  if (d.stack) lines.push('  stack', ...d.stack.split('\n').map((l) => `    ${safe(l)}`))
  if (d.event) {
    const e = d.event
    const payload = JSON.stringify(e.payload, null, 2)
    lines.push(
      '',
      `Event ${safe(e.id)}`,
      `  type ${safe(e.type)} v${e.version}, key ${safe(e.key)}, source ${safe(e.source)}, occurred ${safe(e.occurredAt)}`,
      `  correlation ${safe(e.correlationId)}, causation ${safe(e.causationId || '-')}`,
      '  payload',
      ...(payload.length > PAYLOAD_SHOWN ? `${payload.slice(0, PAYLOAD_SHOWN)}\n... (${payload.length} characters; --json shows all)` : payload).split('\n').map((l) => `    ${safe(l)}`),
    )
  } else {
    lines.push('', `No event: ${safe(d.undecodable ?? 'unknown')}`)
  }
  return lines.join('\n')
}
