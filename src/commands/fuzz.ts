import { writeFile } from 'node:fs/promises'
import { Flags } from '@oclif/core'
import { terminalSafeLines } from '../ui/safe-text.js'
import { BaseCommand } from '../cli/base-command.js'
import { parsedBy, redisFlags, usageError } from '../cli/flags.js'
import type { OutboxCheckReport } from '../check/outbox.js'
import { parseOutboxTarget, type OutboxTarget } from '../outbox/target.js'
import { configFlag, openProject } from '../cli/project.js'
import { hasCode, type EventspineError } from '../errors.js'
import { junitXml, renderReport } from '../check/report.js'
import { PROPERTIES, type Counterexample, type PropertyName } from '../check/types.js'
import { abortOnStopSignal } from '../pipeline/host/signals.js'

interface FuzzJson {
  passed: boolean
  seed: number
  durationMs: number
  results: { consumer: string; property: PropertyName; passed: boolean; runs: number; seed: number; note?: string; warnings?: readonly string[]; counterexample: Counterexample | null; reproduce?: string }[]
}

export default class Fuzz extends BaseCommand {
  static override summary = 'Property-test consumers: idempotency, ordering, replay, crash safety, poison isolation.'
  static override description =
    'Generates event sequences from each consumer\'s contracts (realistic fund files for the built-in pipeline) and runs them on ' +
    'real Redis under adversarial schedules: duplicates, redeliveries, crashes before commit and takeovers, interleaved keys, ' +
    'transient failures, replay into a fresh instance, a poison event. Checks the built-in pipeline, or the consumers listed in ' +
    'pipeline.config.{ts,mjs,js}, or --consumer (with --contracts for their types). Each failure prints its shrunk counterexample as a story and the command that ' +
    're-runs it. Exits 1 when any property fails.'

  static override examples = [
    '<%= config.bin %> fuzz',
    '<%= config.bin %> fuzz --consumer deliver --runs 500',
    '<%= config.bin %> fuzz --consumer ./dist/consumers/ledger.js --contracts ./contracts --json',
    'FC_SEED=42 <%= config.bin %> fuzz --junit reports/fuzz.xml',
    '<%= config.bin %> fuzz --outbox managed --runs 200',
  ]

  static override enableJsonFlag = true
  static override flags = {
    'redis-url': redisFlags['redis-url'],
    ...configFlag,
    contracts: Flags.string({ summary: 'Folder of your contracts (<type>/v<N>.schema.json), beside pipeline.config\'s and the built-in ones. Repeatable.', multiple: true }),
    consumer: Flags.string({ summary: 'A built-in consumer name, a consumer name from pipeline.config, or a path to a JS module exporting consumers. Repeatable.', multiple: true }),
    property: Flags.string({ summary: 'Only these properties. Repeatable.', multiple: true, options: [...PROPERTIES] }),
    runs: Flags.integer({ summary: 'Runs per property per consumer.', default: 100, min: 1 }),
    seed: Flags.integer({ summary: 'fast-check (and faker) seed. Default: FC_SEED, else random; printed with every failure.', env: 'FC_SEED' }),
    path: Flags.string({ summary: 'Replay path of a counterexample (printed with a failure): re-runs just that case.' }),
    'group-loss': Flags.boolean({ summary: 'Ordering schedules may also lose the consumer group (NOGROUP recovery).', default: true, allowNo: true }),
    junit: Flags.string({ summary: 'Also write a JUnit XML report to this file.' }),
    outbox: Flags.custom<OutboxTarget>({
      summary: 'Check the transactional outbox instead (writeOutbox, the relay, crashes of both) on this Postgres (postgres://...), or on a throwaway cluster (managed).',
      parse: parsedBy(parseOutboxTarget),
    })(),
  }

  async run(): Promise<FuzzJson | OutboxCheckReport> {
    const { flags } = await this.parse(Fuzz)
    if (flags.outbox !== undefined) {
      const [{ fuzzOutbox, renderOutboxReport }, { resolveRedis }] = await Promise.all([import('../check/outbox.js'), import('../redis/index.js')])
      const redis = await resolveRedis({ url: flags['redis-url'] })
      try {
        const report = await fuzzOutbox({ target: flags.outbox, redisUrl: redis.url, runs: flags.runs, ...(flags.seed === undefined ? {} : { seed: flags.seed }), ...(flags.path ? { path: flags.path } : {}) })
        if (!this.jsonEnabled()) this.log(terminalSafeLines(renderOutboxReport(report)))
        if (!report.passed) process.exitCode = 1
        return report
      } finally {
        await redis.release()
      }
    }
    const [{ runFuzz }, { resolveRedis }, { chooseFuzzTargets }] = await Promise.all([import('../check/fuzz.js'), import('../redis/index.js'), import('../project/fuzz-targets.js')])
    const project = await openProject(flags.config)
    const redis = await resolveRedis({ url: flags['redis-url'] })
    const interrupt = abortOnStopSignal((name) => process.stderr.write(`\n${name}: stopping the check and deleting its namespaces (again to exit at once)...\n`))
    try {
      const report = await runFuzz({
        signal: interrupt.signal,
        redisUrl: redis.url,
        runs: flags.runs,
        ...(await chooseFuzzTargets(project, flags.consumer, redis.url)),
        configContracts: project.contractsDirs,
        ...(flags.contracts ? { contracts: flags.contracts } : {}),
        ...(flags.property ? { properties: flags.property as PropertyName[] } : {}),
        ...(flags.seed === undefined ? {} : { seed: flags.seed }),
        ...(flags.path ? { path: flags.path } : {}),
        groupLoss: flags['group-loss'],
      }).catch((error: unknown) => {
        if (interrupt.signal.aborted) return null
        // A setup the user must fix before any property can run: a usage error (exit 2), not a failed property.
        if (hasCode(error, 'E_CHECK_NO_CONTRACT')) throw usageError(error as EventspineError)
        throw error
      })
      if (report === null || interrupt.signal.aborted) {
        process.stderr.write('Interrupted: the runs were stopped and their namespaces deleted.\n')
        return this.exit(130)
      }
      if (flags.junit) await writeFile(flags.junit, junitXml(report))
      if (!this.jsonEnabled()) this.log(terminalSafeLines(renderReport(report, { consumerArg: (c) => report.consumerArgs[c] ?? c, runs: report.runs, durationMs: report.durationMs })))
      if (!report.passed) process.exitCode = 1
      return {
        passed: report.passed,
        seed: report.seed,
        durationMs: report.durationMs,
        results: report.results.map((r) => ({
          consumer: r.consumer,
          property: r.property,
          passed: r.passed,
          runs: r.runs,
          seed: r.seed,
          ...(r.note ? { note: r.note } : {}),
          ...(r.warnings ? { warnings: r.warnings } : {}),
          counterexample: r.counterexample,
          ...(r.reproduce ? { reproduce: r.reproduce } : {}),
        })),
      }
    } finally {
      interrupt.dispose()
      await redis.release()
    }
  }
}
