import { BaseCommand } from '../cli/base-command.js'
import { redisFlags } from '../cli/flags.js'
import { configFlag, openProject } from '../cli/project.js'
import type { PipelineStatus } from '../pipeline/host/status.js'
import { clockTime, figuresLegend, outcomeLine, partitionLines, pausedLines, stageTable } from '../ui/format.js'
import { terminalSafe as safe } from '../ui/safe-text.js'

export default class Status extends BaseCommand {
  static override summary = 'Per-stage figures once: handled, rate, lag, pending, retries, dead letters, latency.'
  static override description =
    'Reads the figures a running `pipeline up` refreshes every second (with stage latency), or, when none runs, the counters ' +
    'and lag kept in Redis. Never starts Redis.'

  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status --json']
  static override enableJsonFlag = true
  static override flags = { ...redisFlags, ...configFlag }

  async run(): Promise<PipelineStatus> {
    const { flags, metadata } = await this.parse(Status)
    const { pipelineStatus } = await import('../pipeline/host/status.js')
    // Without --namespace (or its variable), follow the namespace the running `up` recorded.
    const namespace = metadata.flags['namespace']?.setFromDefault ? undefined : flags.namespace
    const status = await pipelineStatus({ redisUrl: flags['redis-url'], namespace, projectDir: process.cwd(), source: await openProject(flags.config, { quiet: true }) })
    if (!this.jsonEnabled()) this.log(render(status))
    return status
  }
}

function render(s: PipelineStatus): string {
  if (s.redis === null) return 'No Redis is running for this project (none given, no managed redis-server). Start the pipeline with `pipeline up`.'
  const lines = [
    `redis ${safe(s.redis.url)} (${s.redis.source}), namespace ${safe(s.namespace)}`,
    s.up === null ? 'pipeline up: not running in this project' : `pipeline up: pid ${s.up.pid} since ${s.up.startedAt}${s.up.logPath ? `, log ${safe(s.up.logPath)}` : ''}`,
    ...(s.http === null ? [] : [`http ${safe(s.http)}`]),
    '',
    s.stages.length === 0 ? 'No consumer figures yet.' : stageTable(s.stages),
    ...pausedLines(s.stages),
    ...(s.stages.length === 0 ? [] : ['', ...figuresLegend(s.stages)]),
  ]
  if (s.partitions !== null) lines.push('', ...partitionLines(s.partitions))
  if (s.figuresFrom === 'redis') lines.push('', 'Counters and lag from Redis (no live pipeline up on this namespace, so no rate or latency).')
  const gone = s.consumers.filter((c) => c.gone)
  if (gone.length > 0) {
    lines.push('', `Gone consumers: registered, but no instance seen for over ${s.goneAfterMs / 1000} s (trace no longer waits for them; \`pipeline clean\` removes them)`)
    lines.push(...gone.map((c) => `  ${safe(c.name)}  last seen ${safe(c.lastSeenAt ?? 'never (registered before heartbeats)')}`))
  }
  if (s.recent.length > 0) lines.push('', 'Recent files', ...s.recent.map((o) => `${clockTime(o.at)} ${outcomeLine(o)}`))
  return lines.join('\n')
}
