import { terminalSafeLines } from '../ui/safe-text.js'
import { BaseCommand } from '../cli/base-command.js'
import { outboxFlag, redisFlags } from '../cli/flags.js'
import type { OutboxDoctorReport } from '../outbox/doctor.js'
import type { DoctorReport } from '../redis/doctor.js'

type Report = DoctorReport & Pick<OutboxDoctorReport, 'postgres' | 'outbox'>

export default class Doctor extends BaseCommand {
  static override summary = 'Check Node, redis-server and the Redis that pipeline would use (and PostgreSQL and the outbox database).'
  static override description =
    'Reports the Node version, the redis-server binary, and which Redis pipeline would use (flag, environment, or a ' +
    'managed redis-server) with its latency, version, eviction policy and AOF; the PostgreSQL binaries, and with --outbox the outbox database (reachable, version, outbox table, backlog). Never starts Redis or Postgres. Exits 1 on a blocking problem.'

  static override examples = ['<%= config.bin %> doctor', '<%= config.bin %> doctor --json', '<%= config.bin %> doctor --redis-url redis://localhost:6379']
  static override enableJsonFlag = true
  static override flags = { 'redis-url': redisFlags['redis-url'], ...outboxFlag }

  async run(): Promise<Report> {
    const { flags } = await this.parse(Doctor)
    const [{ runDoctor }, { outboxDoctor }] = await Promise.all([import('../redis/doctor.js'), import('../outbox/doctor.js')])
    const [redis, pg] = await Promise.all([runDoctor({ url: flags['redis-url'] }), outboxDoctor({ target: flags.outbox })])
    const problems = [...redis.problems, ...pg.problems]
    const report: Report = { ...redis, ok: !problems.some((p) => p.blocking), postgres: pg.postgres, outbox: pg.outbox, problems }
    if (!this.jsonEnabled()) this.log(terminalSafeLines(render(report)))
    // Not this.exit(1): that would throw before --json prints the report.
    if (!report.ok) process.exitCode = 1
    return report
  }
}

function render(report: Report): string {
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
    if (redis.cluster !== null) {
      const { cluster } = redis
      lines.push(`${mark(cluster.state === 'ok' && cluster.slots.covered === cluster.slots.total)} Redis Cluster: cluster_state:${cluster.state}, slots ${cluster.slots.covered} of ${cluster.slots.total} covered${cluster.slots.missing === '' ? '' : ` (missing ${cluster.slots.missing})`}`)
      for (const n of cluster.nodes) {
        lines.push(`   ${n.address.padEnd(21)} ${n.role.padEnd(7)} ${n.role === 'master' ? `slots ${n.slots || 'none'}` : `of ${n.master ?? '?'}`}${n.failing ? '  FAILING' : ''}`)
      }
    }
  }
  const { postgres, outbox } = report
  lines.push(postgres.binDir === null ? `${mark(null)} PostgreSQL not found (only --outbox managed and the tests need it)` : `${mark(true)} PostgreSQL ${postgres.version ?? '(unknown version)'} at ${postgres.binDir}`)
  if (outbox !== null) {
    lines.push(`${mark(outbox.reachable)} Outbox database: ${outbox.url}`)
    if (outbox.reachable) {
      lines.push(`   server ${outbox.serverVersion}, ${outbox.migrated ? `outbox table: ${outbox.backlog} waiting, ${outbox.deadLettered} dead-lettered` : 'no outbox table yet (the relay creates it at start)'}`)
    }
  }
  for (const problem of report.problems) {
    lines.push('', `${problem.blocking ? 'Problem' : 'Warning'} (${problem.code}): ${problem.message}`, `  Fix: ${problem.fix}`)
  }
  lines.push('', report.ok ? 'All good.' : 'Blocking problems found (exit code 1).')
  return lines.join('\n')
}
