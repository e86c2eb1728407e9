import { terminalSafeLines } from '../../ui/safe-text.js'
import { BaseCommand } from '../../cli/base-command.js'
import { configFlag, openProject } from '../../cli/project.js'
import type { Catalog } from '../../events/compat/index.js'
import { catalogFlags } from '../../cli/flags.js'

export default class SchemaList extends BaseCommand {
  static override summary = 'List every event type and version: its meaning, producers and consumers.'
  static override description =
    'Producers and consumers are taken from the code (the consumer definitions of the built-in pipeline and the intake), ' +
    'with what each schema declares (x-producers, x-consumers) shown where they differ. A version after v1 without an upcaster is marked.'

  static override examples = ['<%= config.bin %> schema list', '<%= config.bin %> schema list --json', '<%= config.bin %> schema list --contracts ./contracts']
  static override enableJsonFlag = true
  static override flags = { ...catalogFlags, ...configFlag }

  async run(): Promise<Catalog> {
    const { flags } = await this.parse(SchemaList)
    const [{ buildCatalog, formatCatalog, loadRegistry, withShipped }, { pipelineParticipants }] = await Promise.all([import('../../events/compat/index.js'), import('../../pipeline/participants.js')])
    const project = await openProject(flags.config)
    const registry = await loadRegistry({ dirs: withShipped([...project.contractsDirs, ...(flags.contracts ?? [])]), upcastersModule: flags.upcasters })
    const catalog = buildCatalog({ registry, participants: pipelineParticipants(project) })
    if (!this.jsonEnabled()) this.log(terminalSafeLines(formatCatalog(catalog)))
    return catalog
  }
}
