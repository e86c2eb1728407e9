import { terminalSafeLines } from '../ui/safe-text.js'
import { BaseCommand } from '../cli/base-command.js'
import { redisFlags } from '../cli/flags.js'
import type { DoctorReport } from '../redis/doctor.js'

export default class Doctor extends BaseCommand {
  static override summary = 'Check Node, redis-server and the Redis that pipeline would use.'
  static override description =
    'Reports the Node version, the redis-server binary, and which Redis pipeline would use (flag, environment, or a ' +
    'managed redis-server) with its latency, version, eviction policy and AOF. Never starts Redis. Exits 1 on a blocking problem.'

  static override examples = ['<%= config.bin %> doctor', '<%= config.bin %> doctor --json', '<%= config.bin %> doctor --redis-url redis://localhost:6379']
  static override enableJsonFlag = true
  static override flags = { 'redis-url': redisFlags['redis-url'] }

  async run(): Promise<DoctorReport> {
    const { flags } = await this.parse(Doctor)
    const { runDoctor } = await import('../redis/doctor.js')
    const report = await runDoctor({ url: flags['redis-url'] })
    if (!this.jsonEnabled()) this.log(terminalSafeLines(render(report)))
    // Not this.exit(1): that would throw before --json prints the report.
    if (!report.ok) process.exitCode = 1
    return report
  }
}

function render(report: DoctorReport): string {
  const mark = (ok: boolean | null) => (ok === null ? '-' : ok ? 'ok' : 'X ')
  const { node, redisServer: bin, redis } = report
  const lines = [
    `${mark(node.ok)} Node ${node.version} (requires ${node.required})`,
    bin.found ? `${mark(true)} redis-server ${bin.version ?? '(unknown version)'} at ${bin.path}` : `${mark(null)} redis-server not found on PATH`,
  ]
  if (redis.source === 'managed-start') {
    lines.push(`${mark(null)} Redis: none running; pipeline up would start redis-server with its data in ${redis.dataDir}`)
  } else if (redis.source !== 'invalid') {
    lines.push(`${mark(redis.reachable)} Redis (${redis.source}): ${redis.url}`)
    if (redis.reachable) {
      lines.push(
        `   version ${redis.version}, PING ${redis.pingMs} ms, maxmemory-policy ${redis.maxmemoryPolicy}, ` +
          `AOF ${redis.appendonly ? `on (appendfsync ${redis.appendfsync ?? 'unknown'})` : 'off'}, used memory ${redis.usedMemory}`,
      )
    }
  }
  for (const problem of report.problems) {
    lines.push('', `${problem.blocking ? 'Problem' : 'Warning'} (${problem.code}): ${problem.message}`, `  Fix: ${problem.fix}`)
  }
  lines.push('', report.ok ? 'All good.' : 'Blocking problems found (exit code 1).')
  return lines.join('\n')
}
