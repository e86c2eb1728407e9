import { Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base-command.js'
import { redisFlags } from '../cli/flags.js'
import { STAGE_NAMES } from '../pipeline/host/index.js'
import { openWorker } from '../pipeline/host/session.js'
import { untilStopSignal } from '../pipeline/host/signals.js'
import { showLive } from '../ui/live.js'

export default class Worker extends BaseCommand {
  static override summary = 'Run only some stages against the same Redis: spread the pipeline over processes and hosts.'
  static override description =
    `Runs the named stages (repeat --stage) against the Redis a \`pipeline up\` uses; instances of one stage share its work. ` +
    `Stages: ${STAGE_NAMES.join(', ')}. Prints one line per stage every 5 s; Ctrl-C drains and stops.`

  static override examples = ['<%= config.bin %> worker --stage validate', '<%= config.bin %> worker --stage enrich --stage resolve --redis-url redis://10.0.0.5:6379']
  static override flags = {
    ...redisFlags,
    stage: Flags.string({ summary: 'A stage to run (repeatable).', multiple: true, required: true }),
    out: Flags.string({ summary: 'Folder deliver writes output files into.', default: '.pipeline/out' }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Worker)
    const stop = untilStopSignal()
    try {
      const { pipeline, redis } = await openWorker({
        redisUrl: flags['redis-url'],
        namespace: flags.namespace,
        projectDir: process.cwd(),
        stages: flags.stage,
        outDir: flags.out,
      })
      this.log(`pipeline worker: ${flags.stage.join(', ')} on ${redis.displayUrl}, namespace ${pipeline.bus.namespace}. Ctrl-C to stop.`)
      const finish = await showLive(pipeline, { tty: false, write: (line) => this.log(line), until: stop.signal })
      finish(`${await stop.signal}: stopping: draining ${flags.stage.join(', ')}...`)
      await pipeline.stop()
      this.log('Stopped cleanly.')
    } finally {
      stop.dispose()
    }
  }
}
