import { Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base-command.js'
import { flagError, redisFlags } from '../cli/flags.js'
import type { ProduceInput, ProduceResult } from '../pipeline/host/produce.js'
import { terminalSafe as safe } from '../ui/safe-text.js'

export default class Produce extends BaseCommand {
  static override summary = 'Send events by hand: one from flags, or NDJSON on stdin as `tail --ndjson` prints it.'
  static override description =
    'Validates every event against its contract before sending any (a bad line names its number, a contract violation its ' +
    'field), then appends them as `publish` does, idempotent by id: an event whose id was already published appends nothing. ' +
    'A captured `pipeline tail --ndjson` replays into another namespace as it was (ids, correlation ids, versions kept). ' +
    'Never starts Redis. Bad flags exit 2, a bad event exits 1.'

  static override examples = [
    '<%= config.bin %> produce --type pipeline.file.received --key northwind-nav.csv --payload \'{"fileName":"northwind-nav.csv", ...}\'',
    '<%= config.bin %> tail --ndjson --since 1h > events.ndjson; <%= config.bin %> produce --namespace copy < events.ndjson',
  ]

  static override enableJsonFlag = true
  static override flags = {
    ...redisFlags,
    type: Flags.string({ summary: 'Event type of the one event to send (then --key and --payload too).' }),
    key: Flags.string({ summary: 'Ordering key of the event.' }),
    payload: Flags.custom<unknown>({
      summary: 'Payload, as JSON.',
      parse: async (value) => {
        try {
          return JSON.parse(value) as unknown
        } catch (error) {
          throw flagError(`--payload is not JSON: ${error instanceof Error ? error.message : String(error)}`)
        }
      },
    })(),
    id: Flags.string({ summary: 'Event id (a UUID); sending the same id again appends nothing. Default: a new one.' }),
    'correlation-id': Flags.string({ summary: 'Correlation id (a UUID) of the file journey the event belongs to. Default: a new one.' }),
  }

  async run(): Promise<ProduceResult> {
    const { flags } = await this.parse(Produce)
    const { produceEvents, readAll } = await import('../pipeline/host/produce.js')
    let input: ProduceInput
    if (flags.type === undefined) {
      const given = (['key', 'payload', 'id', 'correlation-id'] as const).filter((f) => flags[f] !== undefined)
      if (given.length > 0) throw flagError(`--${given[0]} needs --type: one event from flags has --type, --key and --payload`)
      if (process.stdin.isTTY) throw flagError('pass --type, --key and --payload for one event, or pipe NDJSON on stdin (as `pipeline tail --ndjson` prints)')
      input = { from: 'ndjson', text: await readAll(process.stdin) }
    } else {
      if (flags.key === undefined || flags.payload === undefined) throw flagError('one event from flags needs --type, --key and --payload')
      input = { from: 'flags', fields: { type: flags.type, key: flags.key, payload: flags.payload, id: flags.id, correlationId: flags['correlation-id'] } }
    }
    const result = await produceEvents({ input, redisUrl: flags['redis-url'], namespace: flags.namespace, projectDir: process.cwd() })
    if (!this.jsonEnabled()) {
      for (const e of result.events) this.log(`${e.entryId === null ? 'already   ' : 'appended  '}${safe(e.id)}  ${safe(e.type)}  key ${safe(e.key)}${e.entryId === null ? '  (this id was published before: nothing appended)' : `  entry ${safe(e.entryId)}`}`)
      this.log(`${result.appended} appended, ${result.duplicates} already published.`)
    }
    return result
  }
}
