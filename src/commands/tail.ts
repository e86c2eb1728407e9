import { Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base-command.js'
import { parsedBy, redisFlags } from '../cli/flags.js'
import { startPosition } from '../pipeline/inspect/stream-ids.js'

export default class Tail extends BaseCommand {
  static override summary = 'Follow pipeline events live, one line per event.'
  static override description =
    'Shows events from every stream of the namespace (or those named with --stream / --type, globs allowed) as they are ' +
    'appended: time, type, key, correlation id, source and a short payload summary. Starts from now, or from --since. ' +
    'Filter one file with --correlation-id, one entity with --key. --ndjson prints one JSON event per line for jq. ' +
    'Reads the Redis of a running pipeline; when none runs, the project\'s saved data (its redis-server is started for the ' +
    'command and stopped after). Ctrl-C stops.'

  static override examples = [
    '<%= config.bin %> tail',
    "<%= config.bin %> tail --type 'pipeline.file.*' --since 10m",
    '<%= config.bin %> tail --correlation-id 0193a1b2-... --since 1h',
    "<%= config.bin %> tail --ndjson | jq -c 'select(.type == \"pipeline.file.rejected\") | .payload.reasons'",
  ]

  static override flags = {
    ...redisFlags,
    stream: Flags.string({ summary: 'Stream (event type) to follow; globs such as pipeline.file.* allowed. Repeatable.', multiple: true }),
    type: Flags.string({ summary: 'Event type to show; globs allowed. Repeatable; joined with --stream.', multiple: true }),
    'correlation-id': Flags.string({ summary: "Only one file's events." }),
    key: Flags.string({ summary: 'Only events with this key.' }),
    // Checked here; the start itself is worked out when the tail begins, as it is relative to then.
    since: Flags.string({ summary: 'Start this long ago (30s, 10m, 2h) or at this entry id (1732540000000-0). Default: now.', parse: parsedBy((value) => (startPosition(value, Date.now()), value)) }),
    ndjson: Flags.boolean({ summary: 'One JSON event per line (entryId + envelope, payload decoded), no colour.' }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Tail)
    const [{ interruptSignal, tailPipeline }, { colorEnabled, startLine, tailPrinter }] = await Promise.all([import('../pipeline/inspect/index.js'), import('../ui/tail/format.js')])
    const interrupt = interruptSignal()
    const printer = tailPrinter(process.stdout, { ndjson: flags.ndjson, color: colorEnabled(process.stdout, process.env), onClosed: interrupt.abort })
    try {
      await tailPipeline({
        url: flags['redis-url'],
        namespace: flags.namespace,
        signal: interrupt.signal,
        onItem: (item) => printer.print(item),
        onStart: (start) => void process.stderr.write(`${startLine(start, flags.since)}\n`),
        ...(flags.stream === undefined ? {} : { streams: flags.stream }),
        ...(flags.type === undefined ? {} : { types: flags.type }),
        ...(flags['correlation-id'] === undefined ? {} : { correlationId: flags['correlation-id'] }),
        ...(flags.key === undefined ? {} : { key: flags.key }),
        ...(flags.since === undefined ? {} : { since: flags.since }),
      })
    } finally {
      interrupt.dispose()
    }
  }
}
