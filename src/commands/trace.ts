import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base-command.js'
import { redisFlags } from '../cli/flags.js'
import { configFlag, openProject } from '../cli/project.js'
import { terminalSafe } from '../ui/safe-text.js'
import type { Trace } from '../pipeline/inspect/index.js'

export default class TraceCommand extends BaseCommand {
  static override summary = "Show one file's whole journey: every event, stage, latency, dead letter, and what it waits for."
  static override description =
    'Give a correlation id (or any unique start or end of one: the 8 characters `tail` shows), or the path of a file that was ' +
    'dropped into the pipeline (found by its content hash). ' +
    'Prints a tree along the causation chain: each event with its stage, time and latency since its cause, dead ' +
    "letters with their errors and attempts, a rejection's rules with row, column and value, and what is still awaited. " +
    '--follow redraws it until the file is ' +
    'delivered, rejected or a duplicate. Reads the correlation index: the cost grows with the file, not the streams. ' +
    'Exit code 1 when nothing is known about the id or file.'

  static override examples = [
    '<%= config.bin %> trace 0193a1b2-7c4d-7e5f-8a9b-0c1d2e3f4a5b',
    '<%= config.bin %> trace inbox/northwind-nav-2026-11-24.csv --follow',
    '<%= config.bin %> trace 0193a1b2 --html journey.html',
    '<%= config.bin %> trace 0193a1b2-7c4d-7e5f-8a9b-0c1d2e3f4a5b --json | jq .awaited',
  ]

  static override enableJsonFlag = true
  static override args = {
    target: Args.string({ description: 'A correlation id (or a unique start or end of one), or the path of a file that went through the pipeline.', required: true }),
  }

  static override flags = {
    ...redisFlags,
    ...configFlag,
    follow: Flags.boolean({ char: 'f', summary: 'Keep updating until the file is delivered, rejected or a duplicate (Ctrl-C stops).' }),
    html: Flags.string({ summary: 'Also write the journey as a waterfall to this self-contained HTML file.' }),
  }

  async run(): Promise<Trace> {
    const { args, flags } = await this.parse(TraceCommand)
    const [{ interruptSignal, traceFile }, { colorEnabled }, { traceScreen, traceText }] = await Promise.all([
      import('../pipeline/inspect/index.js'),
      import('../ui/tail/format.js'),
      import('../ui/trace/render.js'),
    ])
    const json = this.jsonEnabled()
    const color = colorEnabled(process.stdout, process.env)
    const live = flags.follow && !json ? traceScreen({ color }) : undefined
    const interrupt = interruptSignal()
    try {
      const trace = await traceFile({
        source: await openProject(flags.config, { quiet: true }),
        url: flags['redis-url'],
        namespace: flags.namespace,
        target: args.target,
        follow: flags.follow,
        signal: interrupt.signal,
        ...(live ? { onUpdate: live.update } : {}),
      })
      if (!json && !live) this.log(traceText(trace, { color }))
      if (flags.html !== undefined) {
        const { writeTracePage } = await import('../pipeline/console/page.js')
        await writeTracePage(flags.html, trace)
        if (!json) this.log(`waterfall: ${terminalSafe(flags.html)}`)
      }
      return trace
    } finally {
      live?.done()
      interrupt.dispose()
    }
  }
}
