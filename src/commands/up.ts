import { Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base-command.js'
import { flagError, outboxFlag, partitionsFlag, redisFlags, referenceDbFlag } from '../cli/flags.js'
import { configFlag, openProject, watchForReload } from '../cli/project.js'
import type { UpRecord } from '../pipeline/host/record.js'
import { untilStopSignal } from '../pipeline/host/signals.js'
import { consoleLine, upBanner } from '../ui/format.js'

export default class Up extends BaseCommand {
  static override summary = 'Run the pipeline locally (pipeline.config\'s, else the fund pipeline): Redis, every consumer, an inbox folder, a dashboard and an HTTP API.'
  static override description =
    'Uses the Redis given (--redis-url, PIPELINE_REDIS_URL, REDIS_URL) or starts a managed redis-server for this project, runs the ' +
    'consumers of the project config (pipeline.config.ts; without one, the fund pipeline\'s seven stages and two projections), and takes in every file dropped into the inbox (then moved to .done/). Shows a live ' +
    'dashboard on a terminal, plain lines otherwise (per stage every 5 s while it works, once a minute when idle). Ctrl-C drains in-flight work and stops.'

  static override examples = [
    '<%= config.bin %> up --demo',
    '<%= config.bin %> up --inbox ./drop --port 0',
    '<%= config.bin %> up --detach && <%= config.bin %> status',
    '<%= config.bin %> up --cluster 3 --demo',
  ]

  static override flags = {
    ...redisFlags,
    ...partitionsFlag,
    ...configFlag,
    ...outboxFlag,
    ...referenceDbFlag,
    inbox: Flags.string({ summary: 'Folder watched for dropped files.', default: '.pipeline/inbox' }),
    out: Flags.string({ summary: 'Folder deliver writes output files into.', default: '.pipeline/out' }),
    port: Flags.integer({ summary: 'Loopback HTTP port (0 = any free port).', default: 7878, min: 0, max: 65_535 }),
    detach: Flags.boolean({ summary: 'Run in the background; follow with `pipeline status`, stop with `pipeline down`.' }),
    demo: Flags.boolean({ summary: 'Copy the shipped sample files (good and faulty) into the inbox once running.' }),
    cluster: Flags.integer({ summary: 'Run on a managed local Redis Cluster of this many masters (data in .pipeline/cluster), started or reused.', min: 3, max: 16 }),
    'cluster-replicas': Flags.integer({ summary: 'Replicas per master of the --cluster (default 0).', min: 0, max: 4 }),
    durability: Flags.option({ options: ['default', 'strict'] as const, default: 'default' as const, summary: 'strict: fsync every write of a managed redis-server.' })(),
    reload: Flags.boolean({ summary: 'Reload consumers whose code changed (the files pipeline.config imports), draining them first.', default: true, allowNo: true }),
    background: Flags.boolean({ hidden: true, summary: 'Set by --detach on the background process.' }),
  }

  async run(): Promise<UpRecord | undefined> {
    const { flags, raw } = await this.parse(Up)
    const projectDir = process.cwd()
    if (flags.cluster === undefined && flags['cluster-replicas'] !== undefined) throw flagError('--cluster-replicas needs --cluster N.')
    const cluster = flags.cluster === undefined ? undefined : { masters: flags.cluster, replicas: flags['cluster-replicas'] ?? 0 }
    if (cluster !== undefined && (flags['redis-url'] !== undefined || raw.some((t) => t.type === 'flag' && t.flag === 'redis-url'))) {
      throw flagError('--cluster and --redis-url (or PIPELINE_REDIS_URL) cannot go together: --cluster starts a Redis Cluster of its own.', 'Drop one of them: --redis-url redis+cluster://host:port,... runs on a cluster you already have.')
    }
    // Checked here too for --detach: a broken config fails in this terminal, not in a background log.
    const project = await openProject(flags.config)
    if (flags.detach) {
      const { detachUp } = await import('../pipeline/host/detach.js')
      const record = await detachUp({ projectDir, bin: process.argv[1] ?? '', argv: this.argv, redisUrl: flags['redis-url'] })
      this.log(upBanner({ ...record, inbox: record.inbox }))
      if (cluster !== undefined) this.log(await clusterBanner(projectDir))
      this.log(`Running in the background (pid ${record.pid}). Follow it with \`pipeline status\`, its log in ${record.logPath}; stop it with \`pipeline down\`.`)
      return record
    }
    const [{ openUp }, { showLive }] = await Promise.all([import('../pipeline/host/session.js'), import('../ui/live.js')])
    const stop = untilStopSignal()
    const updates = await watchForReload(project, flags.reload)
    try {
      const session = await openUp({
        redisUrl: flags['redis-url'],
        namespace: flags.namespace,
        ...(flags.partitions === undefined ? {} : { partitions: flags.partitions }),
        projectDir,
        source: project,
        ...(updates === undefined ? {} : { updates }),
        inboxDir: flags.inbox,
        outDir: flags.out,
        httpPort: flags.port,
        durability: flags.durability,
        keepRedis: flags.background,
        cluster,
        demo: flags.demo,
        logPath: flags.background ? `${projectDir}/.pipeline/up.log` : null,
        outbox: flags.outbox,
        ...(flags['reference-db'] === undefined ? {} : { referenceDb: flags['reference-db'] }),
      })
      const { pipeline, redis } = session
      const tty = Boolean(process.stdout.isTTY)
      const consoleUrl = pipeline.http?.consoleUrl ?? null
      if (!tty) this.log(upBanner({ ...pipeline.snapshot(), redis: redis.displayUrl, redisSource: redis.source, http: pipeline.http?.url ?? null, console: consoleUrl, outbox: session.outbox ?? null }))
      if (redis.managedCluster !== undefined) this.log(await clusterBanner(projectDir))
      else if (consoleUrl !== null) this.log(consoleLine(consoleUrl).trimStart())
      if (session.demoFiles.length > 0) this.log(`demo: dropping ${session.demoFiles.length} sample files into the inbox, one at a time (a second run reports them as duplicates).`)
      await pipeline.refresh().catch(() => undefined)
      const finish = await showLive(pipeline, { tty, write: (line) => this.log(line), until: stop.signal, redisSource: redis.source })
      const signal = await stop.signal
      finish(`${signal}: stopping: taking no new files, draining the consumers...`)
      await session.close()
      const redisNote = redis.source === 'managed-started' && !flags.background ? `, managed ${redis.managedCluster === undefined ? 'redis-server' : 'Redis Cluster'} stopped` : ''
      const outboxNote = session.outbox?.source === 'managed-started' ? ', throwaway outbox Postgres stopped' : ''
      this.log(`Stopped cleanly (inbox closed, consumers drained, HTTP closed${redisNote}${outboxNote}).`)
      return undefined
    } finally {
      stop.dispose()
      await updates?.close()
    }
  }
}

/** The managed cluster's nodes, one line each (as the cluster sees them now). */
async function clusterBanner(projectDir: string): Promise<string> {
  const { describeManagedCluster, formatSlotRanges } = await import('../redis/index.js')
  const described = await describeManagedCluster(projectDir)
  if (described === undefined) return ''
  const { dir, nodes } = described
  const addressOf = new Map(nodes.map((n) => [n.id, n.address]))
  return [
    `  cluster  ${nodes.filter((n) => n.role === 'master').length} masters, data in ${dir}`,
    ...nodes.map((n) => `    ${n.address.padEnd(21)} ${n.role.padEnd(7)} ${n.role === 'master' ? `slots ${formatSlotRanges(n.slots)}` : `of ${addressOf.get(n.masterId ?? '') ?? '?'}`}  pid ${n.pid ?? '?'}`),
  ].join('\n')
}
