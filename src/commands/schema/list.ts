import { Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base-command.js'
import { buildCatalog, formatCatalog, loadRegistry, withShipped, type Catalog, type Participant } from '../../events/compat/index.js'
import { EVENT, pipelineConsumers } from '../../pipeline/index.js'

// Shared by the schema commands. (They belong in src/cli/flags.ts; kept here until its owner takes them.)
export const catalogFlags = {
  contracts: Flags.string({
    summary: 'Extra folder of contracts (<type>/v<N>.schema.json) next to the built-in ones; repeatable.',
    env: 'PIPELINE_CONTRACTS',
    multiple: true,
  }),
  upcasters: Flags.string({
    summary: 'JavaScript module exporting registerUpcasters(registry), so the catalog knows your upcasters.',
    env: 'PIPELINE_UPCASTERS',
  }),
}

/** Who produces and consumes events in the built-in pipeline, from its consumer definitions. */
export function pipelineParticipants(): Participant[] {
  // The intake (the publish command and the inbox watcher) publishes pipeline.file.received.
  // pipelineConsumers reads nothing from disk until a handler runs, so outDir is never used here.
  return [{ name: 'intake', emits: [EVENT.received] }, ...pipelineConsumers({ outDir: '.pipeline/out' })]
}

export default class SchemaList extends BaseCommand {
  static override summary = 'List every event type and version: its meaning, producers and consumers.'
  static override description =
    'Producers and consumers are taken from the code (the consumer definitions of the built-in pipeline and the intake), ' +
    'with what each schema declares (x-producers, x-consumers) shown where they differ. A version after v1 without an upcaster is marked.'

  static override examples = ['<%= config.bin %> schema list', '<%= config.bin %> schema list --json', '<%= config.bin %> schema list --contracts ./contracts']
  static override enableJsonFlag = true
  static override flags = catalogFlags

  async run(): Promise<Catalog> {
    const { flags } = await this.parse(SchemaList)
    const registry = await loadRegistry({ dirs: withShipped(flags.contracts), upcastersModule: flags.upcasters })
    const catalog = buildCatalog({ registry, participants: pipelineParticipants() })
    if (!this.jsonEnabled()) this.log(formatCatalog(catalog))
    return catalog
  }
}
