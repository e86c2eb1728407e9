import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base-command.js'
import { durationFlag, redisFlags } from '../cli/flags.js'
import type { FileEnding } from '../pipeline/ending.js'
import type { PublishResult } from '../pipeline/host/publish.js'
import { terminalSafe as safe } from '../ui/safe-text.js'

export default class Publish extends BaseCommand {
  static override summary = 'Send files into the running pipeline and print each one’s correlation id.'
  static override description =
    'Publishes each file as pipeline.file.received on the Redis `pipeline up` uses (never starts one). Accepts paths and quoted ' +
    'globs (*, ?, **, [..], {a,b}); a missing file, a glob that matches nothing or a directory is an error and nothing is sent. ' +
    'Follow a file with `curl http://127.0.0.1:7878/files/<correlation id>`. With --wait, waits for each file\'s ending and ' +
    'prints it (delivered with its output path; rejected with stage, rule and row; duplicate of which file) and exits 1 when ' +
    'any file was rejected or had no ending within --timeout.'

  static override examples = ['<%= config.bin %> publish fixtures/inbox/northwind-nav-2026-11-24.csv', "<%= config.bin %> publish 'fixtures/faulty/*.csv' --json"]
  static override strict = false
  static override enableJsonFlag = true
  static override flags = {
    ...redisFlags,
    wait: Flags.boolean({ summary: 'Wait for each file\'s ending and print it; exit 1 when any is rejected or times out.' }),
    timeout: durationFlag('timeout', { summary: 'With --wait: how long to wait for every file to end (default 30s).', default: 30_000 }),
  }
  static override args = { files: Args.string({ required: true, description: 'Files or globs to publish.' }) }

  async run(): Promise<PublishResult> {
    const { argv, flags } = await this.parse(Publish)
    const { publishFiles } = await import('../pipeline/host/publish.js')
    const timeoutMs = flags.timeout ?? 30_000
    const waitMs = flags.wait ? timeoutMs : undefined
    const result = await publishFiles({ patterns: argv as string[], cwd: process.cwd(), redisUrl: flags['redis-url'], namespace: flags.namespace, ...(waitMs === undefined ? {} : { waitMs }) })
    if (!this.jsonEnabled()) {
      for (const f of result.files) this.log(`${safe(f.correlationId)}  ${safe(f.file)}${f.ending === undefined ? '' : `  ${describeEnding(f.ending, timeoutMs)}`}`)
      if (!result.pipelineUp) this.logToStderr('Note: no `pipeline up` is running on this namespace; the files wait in Redis until one (or `pipeline worker`) runs.')
    }
    // A script's read-your-writes: a rejected file, or one that never ended, is not a success.
    if (waitMs !== undefined && result.files.some((f) => f.ending === null || f.ending?.outcome === 'rejected')) process.exitCode = 1
    return result
  }
}

/** A line about an ending: `delivered -> out/...json`, `rejected at validate: isin-checksum row 3 column isin (value "X"): ...`, `duplicate of <id>`. */
function describeEnding(ending: FileEnding | null, timeoutMs: number): string {
  if (ending === null) return `no ending within ${Math.round(timeoutMs / 1000)}s (timed out)`
  if (ending.outcome === 'delivered') return `delivered -> ${safe(ending.outputPath)}`
  if (ending.outcome === 'duplicate') return `duplicate of ${safe(ending.firstCorrelationId)}`
  const [first] = ending.reasons
  const where = first === undefined ? '' : `${first.row === undefined ? '' : ` row ${first.row}`}${first.column === undefined ? '' : ` column ${first.column}`}${first.value === undefined ? '' : ` (value ${JSON.stringify(first.value)})`}`
  const more = ending.reasons.length > 1 ? ` (and ${ending.reasons.length - 1} more)` : ''
  return safe(`rejected at ${ending.stage}${first === undefined ? '' : `: ${first.rule}${where}: ${first.message}`}${more}`)
}

