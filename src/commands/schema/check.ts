import { Flags } from '@oclif/core'
import { terminalSafeLines } from '../../ui/safe-text.js'
import { BaseCommand } from '../../cli/base-command.js'
import type { CompatibilityReport } from '../../events/compat/index.js'
import { catalogFlags, redisFlags } from '../../cli/flags.js'

export default class SchemaCheck extends BaseCommand {
  static override summary = 'Compare the contracts with a baseline and fail on a breaking edit or a missing upcaster.'
  static override description =
    'Classifies each change per type and version as full, backward (new readers read old events), forward (old readers ' +
    'read new events) or breaking. Exits 1, listing type, version, JSON path and reason, when an existing version was ' +
    'edited without staying --level compatible, a version was removed (with --registry: while a registered consumer still reads it ' +
    'or events stored as it remain), or a version after v1 has no upcaster from the previous one.'

  static override examples = [
    '<%= config.bin %> schema check',
    '<%= config.bin %> schema check --against origin/main',
    '<%= config.bin %> schema check --contracts ./contracts --against ./released-contracts --json',
  ]

  static override enableJsonFlag = true
  static override flags = {
    against: Flags.string({ summary: 'Baseline: a folder of contracts, or a git ref (read with git show, the working tree is untouched).', default: 'HEAD' }),
    level: Flags.string({ summary: 'What an edit of an existing version must stay.', options: ['full', 'backward', 'forward'], default: 'full' }),
    contracts: Flags.string({ summary: 'Folder of contracts to check; repeatable. Default: the built-in contracts/.', env: 'PIPELINE_CONTRACTS', multiple: true }),
    upcasters: catalogFlags.upcasters,
    registry: Flags.boolean({ summary: 'Ask the running pipeline (its consumer registry and streams) whether a dropped version is still read or stored; without it dropping one is refused.' }),
    ...redisFlags,
  }

  async run(): Promise<CompatibilityReport> {
    const { flags } = await this.parse(SchemaCheck)
    const [{ defaultContractsDir }, { checkContracts, formatCompatibilityReport, loadRegistry, readBaseline }] = await Promise.all([import('../../events/index.js'), import('../../events/compat/index.js')])
    const dirs = flags.contracts ?? [defaultContractsDir()]
    const registry = await loadRegistry({ dirs, upcastersModule: flags.upcasters })
    const level = flags.level as 'full' | 'backward' | 'forward'
    const inUse = flags.registry ? await (await import('../../pipeline/adoption.js')).versionsInUse({ url: flags['redis-url'], namespace: flags.namespace }) : undefined
    const report = checkContracts({ registry, baseline: readBaseline({ against: flags.against, dirs }), level, ...(inUse === undefined ? {} : { inUse }) })
    if (!this.jsonEnabled()) this.log(terminalSafeLines(formatCompatibilityReport(report)))
    // Not this.exit(1): that would throw before --json prints the report.
    if (!report.ok) process.exitCode = 1
    return report
  }
}
