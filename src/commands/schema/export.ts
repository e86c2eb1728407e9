import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base-command.js'
import { configFlag, openProject } from '../../cli/project.js'
import { redisFlags } from '../../cli/flags.js'
import { catalogFlags } from '../../cli/flags.js'

export default class SchemaExport extends BaseCommand {
  static override summary = 'Export the event catalog as an AsyncAPI 3.0.0 document.'
  static override description =
    'Channels are the Redis streams (address {namespace}:stream:<type>), messages the event types and versions with their ' +
    'payload schemas and the envelope as headers, operations send (producers) and receive (consumers) taken from the code. ' +
    'Prints JSON, or writes it to --out.'

  static override examples = ['<%= config.bin %> schema export --asyncapi --out asyncapi.json', '<%= config.bin %> schema export --asyncapi > asyncapi.json']
  static override flags = {
    asyncapi: Flags.boolean({ summary: 'Export as AsyncAPI 3.0.0 (the one format for now).', required: true }),
    out: Flags.string({ summary: 'File to write (JSON). Default: standard output.' }),
    namespace: redisFlags.namespace,
    ...catalogFlags,
    ...configFlag,
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(SchemaExport)
    const [{ buildCatalog, loadRegistry, toAsyncApi, withShipped }, { pipelineParticipants }] = await Promise.all([import('../../events/compat/index.js'), import('../../pipeline/participants.js')])
    const project = await openProject(flags.config)
    const registry = await loadRegistry({ dirs: withShipped([...project.contractsDirs, ...(flags.contracts ?? [])]), upcastersModule: flags.upcasters })
    const catalog = buildCatalog({ registry, participants: pipelineParticipants(project) })
    const document = toAsyncApi(catalog, { namespace: flags.namespace, version: this.config.version, title: `${this.config.name} event catalog` })
    const text = `${JSON.stringify(document, null, 2)}\n`
    if (flags.out === undefined) {
      process.stdout.write(text)
      return
    }
    const out = resolve(flags.out)
    mkdirSync(dirname(out), { recursive: true })
    writeFileSync(out, text)
    this.log(`Wrote an AsyncAPI 3.0.0 document of ${catalog.types.length} event types to ${out}`)
  }
}
