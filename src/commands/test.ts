import { writeFile } from 'node:fs/promises'
import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base-command.js'
import { configFlag, openProject } from '../cli/project.js'
import { terminalSafeLines } from '../ui/safe-text.js'
import type { GoldenReport } from '../check/golden/cases.js'
import { goldenJunit, renderGolden } from '../check/golden/report.js'

export default class Test extends BaseCommand {
  static override summary = 'Run golden cases of consumers (given state and events, when inputs, then emits and state), without Redis.'
  static override description =
    'Runs the *.case.json files kept beside your consumers: each case gives a consumer prior state and events, feeds it input ' +
    'events, and compares what it emitted and the state it left with what the case expects. Handlers run in memory with the ' +
    'runtime\'s context (writes applied when an event commits, emitted ids derived as the runtime does, emits checked against ' +
    'the contracts, a throw retried then dead-lettered), so a case takes milliseconds. Without PATHS, every *.case.json under ' +
    'the project folder (that of pipeline.config.{ts,mjs,js}, else the current one) is run, skipping node_modules, .git, ' +
    '.pipeline and dist. A case names its consumer: one of pipeline.config or a built-in stage.\n\n' +
    'A case file (one case at the top level, or several under "cases"):\n' +
    '{ "consumer": "receipts", "cases": [{\n' +
    '  "name": "a credit adds to the balance",\n' +
    '  "given": { "state": { "balances": { "acc-001": "250" } } },\n' +
    '  "when": [{ "type": "account.credited", "key": "acc-001",\n' +
    '    "payload": { "accountId": "acc-001", "amount": 100 } }],\n' +
    '  "then": { "emits": [{ "type": "account.receipt", "key": "acc-001" }],\n' +
    '    "state": { "balances": { "acc-001": "350" }, "gone": null } } }] }\n\n' +
    'Inputs: type, key, payload; version (default: the latest contract), id (default derived from the position; repeat one to ' +
    'test the inbox) and correlationId (default: the key) are optional. State: a string is a string key, an object a hash ' +
    '(non-string field values stored as JSON), {"$json": v} a key written with setJson. then.emits is every emitted event in ' +
    'order, each with type, and key, version, payload (exact) or payloadIncludes (a subset) when given; then.state checks the ' +
    'names it lists exactly (null: absent); then.deadLettered lists the inputs that end dead-lettered ({ "event": 0, "error": ' +
    '"part of it" }; default: none); then.inspect is what the consumer\'s inspect() returns. Exit 1 when a case fails, 2 when a ' +
    'case file is malformed or names an unknown consumer.'

  static override examples = [
    '<%= config.bin %> test',
    '<%= config.bin %> test consumers/audit.case.json',
    '<%= config.bin %> test test/golden --junit reports/golden.xml',
    '<%= config.bin %> test --json',
  ]

  static override strict = false
  static override enableJsonFlag = true
  static override args = {
    paths: Args.string({ description: 'Case files, or folders to search for *.case.json. Default: the project folder.' }),
  }

  static override flags = {
    ...configFlag,
    contracts: Flags.string({ summary: 'Folder of your contracts (<type>/v<N>.schema.json), beside pipeline.config\'s and the built-in ones. Repeatable.', multiple: true }),
    junit: Flags.string({ summary: 'Also write a JUnit XML report to this file.' }),
  }

  async run(): Promise<GoldenReport> {
    const { argv, flags } = await this.parse(Test)
    const startedAt = performance.now()
    const [{ runGoldenFiles }, { goldenProject }] = await Promise.all([import('../check/golden/cases.js'), import('../project/fuzz-targets.js')])
    const project = await goldenProject(await openProject(flags.config))
    const report = await runGoldenFiles({ startedAt, project, paths: argv as string[], ...(flags.contracts ? { contracts: flags.contracts } : {}) })
    if (flags.junit) await writeFile(flags.junit, goldenJunit(report))
    if (!this.jsonEnabled()) this.log(terminalSafeLines(renderGolden(report)))
    if (!report.passed) process.exitCode = 1
    return report
  }
}
