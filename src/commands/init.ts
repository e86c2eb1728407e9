import { Args, Flags } from '@oclif/core'
import { relative } from 'node:path'
import { BaseCommand } from '../cli/base-command.js'
import { parsedBy } from '../cli/flags.js'
import { eventspineSpec, type InitResult } from '../project/init.js'
import { terminalSafe } from '../ui/safe-text.js'

export default class Init extends BaseCommand {
  static override summary = 'Scaffold a project: the fund pipeline plus a consumer of your own, its contract and test, a sample file.'
  static override description =
    'Writes package.json (eventspine as a dependency; tsx, vitest and @types/node for development), pipeline.config.ts (fundPipeline() and ' +
    'an audit consumer of pipeline.file.delivered), the consumer, its contract, a vitest test that calls checkConsumer, a sample ' +
    'fund file, a README and a .gitignore. Refuses to overwrite files that exist unless --force. eventspine is not on the npm ' +
    'registry: pass --eventspine file:/path/eventspine-<version>.tgz (made by `npm pack`) so that `npm install` finds it.'

  static override examples = [
    '<%= config.bin %> init my-pipeline --eventspine ./eventspine-0.1.0.tgz',
    '<%= config.bin %> init --force',
  ]

  static override enableJsonFlag = true
  static override args = { dir: Args.string({ description: 'Folder to scaffold (made when missing). Default: the current folder.', default: '.' }) }
  static override flags = {
    force: Flags.boolean({ summary: 'Overwrite files that exist.' }),
    eventspine: Flags.custom<string>({
      summary: 'The eventspine dependency: an npm spec, or the path of a tarball or folder (made absolute). Default: ^<this version>.',
      parse: parsedBy((value) => eventspineSpec(value, process.cwd())),
    })(),
  }

  async run(): Promise<InitResult> {
    const { args, flags } = await this.parse(Init)
    const { initProject } = await import('../project/init.js')
    const result = initProject({ dir: args.dir, force: flags.force, ...(flags.eventspine === undefined ? {} : { eventspine: flags.eventspine }) })
    if (!this.jsonEnabled()) this.log(render(result))
    return result
  }
}

function render(r: InitResult): string {
  const at = relative(process.cwd(), r.dir)
  const overwritten = new Set(r.overwritten)
  return [
    `Wrote ${r.files.length} files to ${terminalSafe(r.dir)}:`,
    ...r.files.map((f) => `  ${terminalSafe(f)}${overwritten.has(f) ? '  (overwritten)' : ''}`),
    '',
    'Next:',
    ...(at === '' ? [] : [`  cd ${terminalSafe(at)}`]),
    r.fromRegistry
      ? `  npm install /path/to/eventspine-<version>.tgz   # eventspine is not on the npm registry: install its tarball (npm pack in a clone), then npm install`
      : `  npm install                # eventspine from ${terminalSafe(r.eventspine)}`,
    '  npx pipeline up --demo     # the fund pipeline and your audit consumer; the samples flow through',
    '  npx pipeline test          # audit\'s golden cases (consumers/audit.case.json), no Redis',
    '  npm test                   # vitest: checkConsumer proves audit\'s five properties on a throwaway redis-server',
    'More in README.md: publish, trace, load, fuzz.',
  ].join('\n')
}
