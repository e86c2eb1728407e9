import { Args } from '@oclif/core'
import { BaseCommand } from '../cli/base-command.js'
import { redisFlags } from '../cli/flags.js'
import type { PublishResult } from '../pipeline/host/publish.js'

export default class Publish extends BaseCommand {
  static override summary = 'Send files into the running pipeline and print each one’s correlation id.'
  static override description =
    'Publishes each file as pipeline.file.received on the Redis `pipeline up` uses (never starts one). Accepts paths and quoted ' +
    'globs (*, ?, **, [..], {a,b}); a missing file, a glob that matches nothing or a directory is an error and nothing is sent. ' +
    'Follow a file with `curl http://127.0.0.1:7878/files/<correlation id>`.'

  static override examples = ['<%= config.bin %> publish fixtures/inbox/northwind-nav-2026-11-24.csv', "<%= config.bin %> publish 'fixtures/faulty/*.csv' --json"]
  static override strict = false
  static override enableJsonFlag = true
  static override flags = { ...redisFlags }
  static override args = { files: Args.string({ required: true, description: 'Files or globs to publish.' }) }

  async run(): Promise<PublishResult> {
    const { argv, flags } = await this.parse(Publish)
    const { publishFiles } = await import('../pipeline/host/publish.js')
    const result = await publishFiles({ patterns: argv as string[], cwd: process.cwd(), redisUrl: flags['redis-url'], namespace: flags.namespace })
    if (!this.jsonEnabled()) {
      for (const f of result.files) this.log(`${f.correlationId}  ${f.file}`)
      if (!result.pipelineUp) this.logToStderr('Note: no `pipeline up` is running on this namespace; the files wait in Redis until one (or `pipeline worker`) runs.')
    }
    return result
  }
}
