import { EventspineError } from '../errors.js'
import { findRedisServer, type RedisServerBinary } from './binary.js'
import { closeQuietly, connect } from './connect.js'
import { binaryMissingError, RedisErrorCode } from './errors.js'
import { ensureManagedRedis, findLiveManagedRedis, hasSavedData, managedPaths, type ManagedRecord } from './managed.js'
import { ensureManagedCluster, findLiveManagedCluster, managedClusterDir, type ManagedClusterShape } from './managed-cluster.js'
import type { ClusterRecord } from './cluster.js'
import { redactUrl } from './redact.js'
import { parseConnectionUrl } from './url.js'

export type RedisSource = 'flag' | 'env' | 'managed-existing' | 'managed-started'

export interface ResolveOptions {
  /** The `--redis-url` flag value (oclif also fills it from PIPELINE_REDIS_URL). */
  url?: string | undefined
  /** Where `.pipeline/` lives. Default: the current directory. */
  projectDir?: string
  /**
   * Start redis-server when nothing else is available. Default true. `'when-saved'`: only when
   * the project has saved managed data to read back; that server is stopped again on release
   * (by the last command reading it, unless `pipeline up` took it over meanwhile).
   */
  startIfMissing?: boolean | 'when-saved'
  /** `strict` = AOF fsync on every write (`appendfsync always`). Default `default` (everysec). */
  durability?: 'default' | 'strict'
  /** Leave a server we start running after this process exits (`pipeline up --detach`). */
  keepRunning?: boolean
  /** How long a given URL may take to answer. Default 5000 ms. */
  connectTimeoutMs?: number
  /** Environment to read PIPELINE_REDIS_URL, REDIS_URL and PATH from. Default process.env. */
  env?: NodeJS.ProcessEnv
  /** `pipeline up --cluster N`: the project's managed Redis Cluster of this shape (started, or reused). */
  cluster?: ManagedClusterShape
}

export interface ResolvedRedis {
  url: string
  /** The URL with any password replaced by `***`: the only form fit to print. */
  displayUrl: string
  source: RedisSource
  managed?: { pid: number; port: number; dir: string }
  /** The project's managed Redis Cluster, when that is what this is: its folder and node ports. */
  managedCluster?: { dir: string; ports: readonly number[] }
  /** Stops the server only if this process started it and was not asked to keep it running. */
  release(): Promise<void>
}

/** What resolveRedis would do, without doing it (for `pipeline doctor`). */
export type RedisPlan =
  | { source: 'flag' | 'env'; url: string; displayUrl: string }
  | { source: 'managed-existing'; url: string; displayUrl: string; record: ManagedRecord }
  | { source: 'managed-cluster'; url: string; displayUrl: string; cluster: ClusterRecord }
  | { source: 'managed-start'; dataDir: string; binary: RedisServerBinary | undefined }

/**
 * Where Redis comes from, in order: `options.url` (the --redis-url flag), PIPELINE_REDIS_URL
 * or REDIS_URL, the project's managed Redis Cluster if it runs (`up --cluster`), its managed
 * redis-server if it is alive and answers PING, else none yet: a new managed one would be started.
 */
export async function planRedis(options: ResolveOptions = {}): Promise<RedisPlan> {
  const env = options.env ?? process.env
  const given = nonEmpty(options.url)
  const fromEnv = nonEmpty(env['PIPELINE_REDIS_URL']) ?? nonEmpty(env['REDIS_URL'])
  // oclif fills the flag from PIPELINE_REDIS_URL, so a flag equal to the env value came from env.
  if (given !== undefined) return urlPlan(given, given === nonEmpty(env['PIPELINE_REDIS_URL']) ? 'env' : 'flag')
  if (fromEnv !== undefined && options.cluster === undefined) return urlPlan(fromEnv, 'env')
  const projectDir = options.projectDir ?? process.cwd()
  const cluster = await findLiveManagedCluster(projectDir)
  if (cluster) return { source: 'managed-cluster', url: cluster.url, displayUrl: cluster.url, cluster }
  const record = await findLiveManagedRedis(projectDir)
  if (record) return { source: 'managed-existing', url: record.url, displayUrl: record.url, record }
  return { source: 'managed-start', dataDir: managedPaths(projectDir).dataDir, binary: await findRedisServer(env) }
}

/**
 * Finds the Redis to use (see {@link planRedis}), starting a managed redis-server when none
 * is given. A given URL must answer within `connectTimeoutMs`, else `E_REDIS_UNREACHABLE`
 * (or `E_REDIS_AUTH`); no redis-server on PATH is `E_REDIS_BINARY_MISSING`.
 */
export async function resolveRedis(options: ResolveOptions = {}): Promise<ResolvedRedis> {
  if (options.cluster !== undefined) return resolveManagedCluster(options, options.cluster)
  const plan = await planRedis(options)
  if (plan.source === 'managed-cluster') {
    const dir = managedClusterDir(options.projectDir ?? process.cwd())
    return { url: plan.url, displayUrl: plan.displayUrl, source: 'managed-existing', managedCluster: { dir, ports: plan.cluster.ports }, release: async () => {} }
  }
  if (plan.source === 'flag' || plan.source === 'env') {
    const client = await connect(plan.url, { longLived: false, connectTimeoutMs: options.connectTimeoutMs ?? 5_000 })
    await closeQuietly(client)
    return { url: plan.url, displayUrl: plan.displayUrl, source: plan.source, release: async () => {} }
  }
  const projectDir = options.projectDir ?? process.cwd()
  if (plan.source === 'managed-start') {
    if (options.startIfMissing === false) {
      throw new EventspineError(RedisErrorCode.NotRunning, 'No Redis URL was given and no managed redis-server is running for this project.', {
        hint: 'Run `pipeline up` to start one, or pass --redis-url.',
      })
    }
    if (options.startIfMissing === 'when-saved' && !hasSavedData(projectDir)) {
      throw new EventspineError(RedisErrorCode.NotRunning, 'No Redis URL was given, no managed redis-server is running for this project, and it has no saved Redis data.', {
        hint: 'Nothing has run in this project yet: start the pipeline with `pipeline up`, or pass --redis-url.',
      })
    }
    if (plan.binary === undefined) throw binaryMissingError()
  }
  const use = options.startIfMissing === false ? 'join' : options.startIfMissing === 'when-saved' ? 'read' : 'run'
  // ensureManagedRedis re-checks under its lock: another process may have started one meanwhile.
  const managed = await ensureManagedRedis({
    projectDir,
    durability: options.durability ?? 'default',
    keepRunning: options.keepRunning ?? false,
    use,
    ...(options.env === undefined ? {} : { env: options.env }),
  })
  const { pid, port, dir, url } = managed.record
  return {
    url,
    displayUrl: url,
    source: managed.started ? 'managed-started' : 'managed-existing',
    managed: { pid, port, dir },
    release: () => managed.release(),
  }
}

async function resolveManagedCluster(options: ResolveOptions, shape: ManagedClusterShape): Promise<ResolvedRedis> {
  const managed = await ensureManagedCluster({
    projectDir: options.projectDir ?? process.cwd(),
    shape,
    durability: options.durability ?? 'default',
    keepRunning: options.keepRunning ?? false,
  })
  const { url, dir, ports } = managed.cluster
  return { url, displayUrl: url, source: managed.started ? 'managed-started' : 'managed-existing', managedCluster: { dir, ports }, release: () => managed.release() }
}

function urlPlan(url: string, source: 'flag' | 'env'): RedisPlan {
  parseConnectionUrl(url) // a malformed URL fails here, redacted, before any connection
  return { source, url, displayUrl: redactUrl(url) }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim()
}
