import { Flags } from '@oclif/core'
import { resolve } from 'node:path'
import { BaseCommand } from '../cli/base-command.js'
import { durationFlag, flagError, outboxFlag, partitionsFlag, redisFlags, referenceDbFlag } from '../cli/flags.js'
import { configFlag, openProject } from '../cli/project.js'
import { STAGE_NAMES } from '../pipeline/stages/names.js'
import { untilStopSignal } from '../pipeline/host/signals.js'

export default class Worker extends BaseCommand {
  static override summary = 'Run only some stages against the same Redis: spread the pipeline over processes and hosts.'
  static override description =
    `Runs the named stages (repeat --stage) against the Redis a \`pipeline up\` uses. One instance of a stage works at a time ` +
    `(a lease); another instance of the same stage waits and takes over, with the work in flight, once the first is gone for ` +
    `--visibility-timeout. A stage is any consumer of the project config (pipeline.config.ts), else one of the built-in pipeline's: ${STAGE_NAMES.join(', ')}. Prints a line per stage every 5 s while it works (once a minute when idle); Ctrl-C drains and stops.`

  static override examples = [
    '<%= config.bin %> worker --stage validate',
    '<%= config.bin %> worker --stage enrich --stage resolve --redis-url redis://10.0.0.5:6379',
    '<%= config.bin %> worker --stage deliver --visibility-timeout 3s',
  ]

  static override flags = {
    ...redisFlags,
    ...partitionsFlag,
    ...configFlag,
    ...outboxFlag,
    ...referenceDbFlag,
    stage: Flags.string({ summary: 'A consumer of the project to run (repeatable).', multiple: true, required: true }),
    out: Flags.string({ summary: 'Folder deliver writes output files into.', default: '.pipeline/out' }),
    reference: Flags.string({ summary: 'Folder with funds.csv and identifiers.csv for enrich and resolve. Default: the shipped reference data.' }),
    'visibility-timeout': durationFlag('visibility-timeout', {
      summary: 'How long an instance may be silent before another takes over its stage and its work in flight (default 10s).',
    }),
    'batch-size': Flags.integer({ summary: 'Entries a stage reads at a time (default 200): larger batches, fewer round trips under a heavy load.', min: 1, max: 10_000 }),
    // `pipeline load --chaos` runs a generated day of another date through worker processes.
    clock: Flags.string({ summary: 'Pin "now" (ISO time) for the not-in-the-future rule.', hidden: true }),
    'chaos-hold': Flags.boolean({ summary: 'Stop before a commit while the stage\'s chaos hold key is set (fault injection).', hidden: true }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Worker)
    const clock = flags.clock === undefined ? undefined : parseClock(flags.clock)
    const [{ openWorker }, { showLive }] = await Promise.all([import('../pipeline/host/session.js'), import('../ui/live.js')])
    const project = await openProject(flags.config)
    const stop = untilStopSignal()
    // Started by another process with an IPC channel (a chaos run): stop when that process goes.
    if (process.channel !== undefined) {
      process.channel.unref()
      process.once('disconnect', () => {
        process.kill(process.pid, 'SIGTERM')
        // Its Redis may have gone with it, and a drain would wait for it: a second signal exits.
        setTimeout(() => process.kill(process.pid, 'SIGTERM'), 10_000).unref()
      })
    }
    try {
      const { pipeline, redis, outbox } = await openWorker({
        redisUrl: flags['redis-url'],
        namespace: flags.namespace,
        ...(flags.partitions === undefined ? {} : { partitions: flags.partitions }),
        projectDir: process.cwd(),
        stages: flags.stage,
        source: project,
        outDir: flags.out,
        ...(flags.reference === undefined ? {} : { referenceDir: resolve(flags.reference) }),
        ...(clock === undefined ? {} : { clock: () => clock }),
        runner: {
          ...(flags['visibility-timeout'] === undefined ? {} : { visibilityTimeoutMs: flags['visibility-timeout'] }),
          ...(flags['batch-size'] === undefined ? {} : { batchSize: flags['batch-size'] }),
        },
        ...(flags['chaos-hold'] ? { chaosHold: true } : {}),
        outbox: flags.outbox,
        ...(flags['reference-db'] === undefined ? {} : { referenceDb: flags['reference-db'] }),
      })
      const relaying = outbox === undefined ? '' : `, relaying the outbox of ${outbox.displayUrl}`
      this.log(`pipeline worker: ${flags.stage.join(', ')} on ${redis.displayUrl}, namespace ${pipeline.bus.namespace}${relaying}. Ctrl-C to stop.`)
      const finish = await showLive(pipeline, { tty: false, write: (line) => this.log(line), until: stop.signal })
      finish(`${await stop.signal}: stopping: draining ${flags.stage.join(', ')}...`)
      await pipeline.stop()
      this.log('Stopped cleanly.')
    } finally {
      stop.dispose()
    }
  }
}

function parseClock(value: string): Date {
  const at = new Date(value)
  if (Number.isNaN(at.getTime())) throw flagError(`--clock "${value}" is not an ISO time such as 2026-11-25T23:59:59Z`)
  return at
}
