import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base-command.js'
import { catalogFlags } from '../../cli/flags.js'

interface Shown {
  type: string
  version: number
  latestVersion: number
  versions: number[]
  description: string
  file: string
  schema: object
}

export default class SchemaShow extends BaseCommand {
  static override summary = 'Show the schema of an event type and what the event means.'
  static override examples = [
    '<%= config.bin %> schema show pipeline.file.validated',
    '<%= config.bin %> schema show pipeline.file.received --version 1 --json',
  ]

  static override enableJsonFlag = true
  static override args = { type: Args.string({ description: 'Event type, e.g. pipeline.file.mapped', required: true }) }
  static override flags = {
    version: Flags.integer({ summary: 'Contract version. Default: the latest.', min: 1 }),
    ...catalogFlags,
  }

  async run(): Promise<Shown> {
    const { args, flags } = await this.parse(SchemaShow)
    const { findContract, loadRegistry, withShipped } = await import('../../events/compat/index.js')
    const registry = await loadRegistry({ dirs: withShipped(flags.contracts), upcastersModule: flags.upcasters })
    const { type, version, latestVersion, versions, description, file, schema } = findContract(registry, args.type, flags.version)
    if (!this.jsonEnabled()) {
      const which = version === latestVersion ? 'latest' : `latest is v${latestVersion}`
      this.log(`${type} v${version} (${which}; versions: ${versions.join(', ')})\n\n${description}\n\n${file}\n\n${JSON.stringify(schema, null, 2)}`)
    }
    return { type, version, latestVersion, versions, description, file, schema }
  }
}
