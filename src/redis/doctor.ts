import { performance } from 'node:perf_hooks'
import { EventspineError, errorMessage, hasCode, type ErrorCode } from '../errors.js'
import { findRedisServer } from './binary.js'
import { closeQuietly, connect, connectNode } from './connect.js'
import { INSTALL_HINT, RedisErrorCode, replyError } from './errors.js'
import { inspectRedis, type RedisInspection } from './inspect.js'
import { forEachMaster, isCluster, type RedisClient } from './nodes.js'
import { redact, redactDeep } from './redact.js'
import { planRedis, type RedisPlan } from './resolve.js'
import { byShard, CLUSTER_SLOTS, formatSlotRanges, parseClusterNodes, slotCoverage } from './topology.js'

/** Kept in step with `engines.node` in package.json. */
export const REQUIRED_NODE = '20.19.0'

export interface DoctorProblem {
  /** A registered error code, or a warning's `W_` code. */
  code: ErrorCode | 'W_REDIS_AOF_OFF'
  /** Blocking problems make `pipeline doctor` exit 1. */
  blocking: boolean
  message: string
  fix: string
}

export interface DoctorReport {
  ok: boolean
  node: { version: string; required: string; ok: boolean }
  redisServer: { found: boolean; path: string | null; version: string | null }
  redis: {
    /** `managed-start`: nothing is running, so `pipeline up` would start redis-server. */
    source: 'flag' | 'env' | 'managed-existing' | 'managed-start' | 'invalid'
    url: string | null
    dataDir: string | null
    reachable: boolean | null
    pingMs: number | null
    version: string | null
    maxmemoryPolicy: string | null
    appendonly: boolean | null
    appendfsync: string | null
    usedMemory: string | null
    /** Null for a standalone Redis. */
    cluster: ClusterReport | null
  }
  problems: DoctorProblem[]
}

export interface ClusterReport {
  /** CLUSTER INFO's cluster_state: `ok` or `fail`. */
  state: string
  nodes: { address: string; role: 'master' | 'replica'; failing: boolean; slots: string; master: string | null }[]
  slots: { covered: number; total: number; missing: string }
}

export interface DoctorOptions {
  url?: string | undefined
  projectDir?: string
  env?: NodeJS.ProcessEnv
  connectTimeoutMs?: number
}

/**
 * Checks Node, redis-server and the Redis `pipeline` would use, and says what to do about each
 * problem. Never starts a managed Redis: it reports what would happen. Output is redacted.
 */
export async function runDoctor(options: DoctorOptions = {}): Promise<DoctorReport> {
  const env = options.env ?? process.env
  const problems: DoctorProblem[] = []
  const node = { version: process.versions.node, required: `>=${REQUIRED_NODE}`, ok: versionAtLeast(process.versions.node, REQUIRED_NODE) }
  if (!node.ok) {
    problems.push({ code: 'E_NODE_VERSION', blocking: true, message: `Node ${node.version} is too old.`, fix: `Install Node ${REQUIRED_NODE} or newer (e.g. \`nvm install 20\`).` })
  }
  const binary = await findRedisServer(env)
  const redisServer = { found: binary !== undefined, path: binary?.path ?? null, version: binary?.version ?? null }
  const redis: DoctorReport['redis'] = {
    source: 'invalid', url: null, dataDir: null, reachable: null, pingMs: null,
    version: null, maxmemoryPolicy: null, appendonly: null, appendfsync: null, usedMemory: null, cluster: null,
  }
  let plan: RedisPlan | undefined
  try {
    plan = await planRedis({ url: options.url, env, ...(options.projectDir === undefined ? {} : { projectDir: options.projectDir }) })
  } catch (error) {
    problems.push(problemFrom(error, 'Fix the URL in --redis-url, PIPELINE_REDIS_URL or REDIS_URL.'))
  }
  if (plan?.source === 'managed-start') {
    redis.source = 'managed-start'
    redis.dataDir = plan.dataDir
    if (binary === undefined) {
      problems.push({ code: RedisErrorCode.BinaryMissing, blocking: true, message: 'redis-server is not on PATH and no Redis URL is set, so pipeline has no Redis to use.', fix: INSTALL_HINT })
    }
  } else if (plan !== undefined) {
    redis.source = plan.source === 'managed-cluster' ? 'managed-existing' : plan.source
    redis.url = plan.displayUrl
    await probe(plan.url, options.connectTimeoutMs ?? 3_000, redis, problems)
  }
  return redactDeep({ ok: !problems.some((p) => p.blocking), node, redisServer, redis, problems })
}

async function probe(url: string, connectTimeoutMs: number, redis: DoctorReport['redis'], problems: DoctorProblem[]): Promise<void> {
  let client
  try {
    client = await connect(url, { longLived: false, connectTimeoutMs })
  } catch (error) {
    redis.reachable = false
    if (hasCode(error, 'E_REDIS_CLUSTER')) return describeBrokenCluster(url, connectTimeoutMs, redis, problems)
    problems.push(problemFrom(error, 'Check the URL and that Redis is running.'))
    return
  }
  try {
    const started = performance.now()
    await client.ping()
    redis.pingMs = Math.round((performance.now() - started) * 100) / 100
    redis.reachable = true
    // On a cluster every master must pass: the worst of them is reported.
    const info = summarize(await forEachMaster(client, (node) => inspectRedis(node)))
    redis.version = info.version ?? null
    redis.maxmemoryPolicy = info.maxmemoryPolicy ?? null
    redis.appendonly = info.appendonly ?? null
    redis.appendfsync = info.appendfsync ?? null
    redis.usedMemory = info.usedMemoryHuman ?? null
    if (info.maxmemoryPolicy !== undefined && info.maxmemoryPolicy !== 'noeviction') {
      problems.push({
        code: 'E_REDIS_EVICTION_POLICY',
        blocking: true,
        message: `maxmemory-policy is ${info.maxmemoryPolicy}: under memory pressure Redis may evict stream entries and lose events.`,
        fix: 'Run `redis-cli CONFIG SET maxmemory-policy noeviction` (add -u <url> for a remote Redis) and set it in redis.conf so it survives a restart.',
      })
    }
    if (info.appendonly === false) {
      problems.push({
        code: 'W_REDIS_AOF_OFF',
        blocking: false,
        message: 'AOF is off: events written since the last snapshot are lost if Redis crashes.',
        fix: 'Run `redis-cli CONFIG SET appendonly yes` (and set appendonly yes in redis.conf).',
      })
    }
    if (isCluster(client)) redis.cluster = await describeCluster(client, problems)
  } catch (error) {
    problems.push(problemFrom(error, 'Check that this Redis allows PING and INFO for this user.'))
  } finally {
    await closeQuietly(client)
  }
}

/** A cluster that answers but cannot serve: its nodes and missing slots, asked of one node. */
async function describeBrokenCluster(url: string, connectTimeoutMs: number, redis: DoctorReport['redis'], problems: DoctorProblem[]): Promise<void> {
  const node = await connectNode(url, { longLived: false, connectTimeoutMs })
  try {
    redis.reachable = true
    redis.cluster = await describeCluster(node, problems)
  } finally {
    await closeQuietly(node)
  }
}

/** One line per master would repeat the same; a setting that differs shows the one to fix. */
function summarize(nodes: readonly RedisInspection[]): RedisInspection {
  const [first] = nodes
  if (first === undefined || nodes.length === 1) return first ?? inspectNothing()
  const used = nodes.reduce((sum, n) => sum + (n.usedMemoryBytes ?? 0), 0)
  return {
    ...first,
    maxmemoryPolicy: nodes.find((n) => n.maxmemoryPolicy !== 'noeviction')?.maxmemoryPolicy ?? first.maxmemoryPolicy,
    appendonly: nodes.some((n) => n.appendonly === false) ? false : first.appendonly,
    appendfsync: [...new Set(nodes.map((n) => n.appendfsync ?? 'unknown'))].join('/'),
    usedMemoryBytes: used,
    usedMemoryHuman: `${(used / 1024 / 1024).toFixed(2)}M over ${nodes.length} masters`,
  }
}

function inspectNothing(): RedisInspection {
  return { version: undefined, mode: undefined, maxmemoryPolicy: undefined, maxmemoryBytes: undefined, appendonly: undefined, appendfsync: undefined, usedMemoryBytes: undefined, usedMemoryHuman: undefined }
}

/** The nodes (address, role, slots, master of each replica), slot coverage and cluster_state. */
async function describeCluster(client: RedisClient, problems: DoctorProblem[]): Promise<ClusterReport> {
  const state = /^cluster_state:(\S+)/m.exec(String(await client.call('CLUSTER', 'INFO')))?.[1] ?? 'unknown'
  const views = byShard(parseClusterNodes(String(await client.call('CLUSTER', 'NODES'))))
  const byId = new Map(views.map((v) => [v.id, v.address]))
  const coverage = slotCoverage(views)
  if (state !== 'ok' || coverage.covered !== CLUSTER_SLOTS) {
    problems.push({
      code: 'E_REDIS_CLUSTER',
      blocking: true,
      message: `The cluster says cluster_state:${state}; ${coverage.covered} of ${CLUSTER_SLOTS} slots are served${coverage.missing.length === 0 ? '' : ` (missing ${formatSlotRanges(coverage.missing)})`}.`,
      fix: 'Start the failed masters again or let their replicas take over; `redis-cli --cluster check <host:port>` and `redis-cli --cluster fix <host:port>` repair slot assignments.',
    })
  }
  return {
    state,
    nodes: views.map((v) => ({ address: v.address, role: v.role, failing: v.failing, slots: formatSlotRanges(v.slots), master: v.masterId === null ? null : (byId.get(v.masterId) ?? v.masterId) })),
    slots: { covered: coverage.covered, total: CLUSTER_SLOTS, missing: formatSlotRanges(coverage.missing) },
  }
}

function problemFrom(thrown: unknown, fallbackFix: string): DoctorProblem {
  const error = replyError(thrown) ?? thrown
  const ours = error instanceof EventspineError ? error : undefined
  return {
    code: ours?.code ?? 'E_REDIS',
    blocking: true,
    message: redact(errorMessage(error)),
    fix: redact(ours?.hint ?? fallbackFix),
  }
}

/** True when dotted version `actual` >= `required` (numeric parts, e.g. 20.19.0). */
export function versionAtLeast(actual: string, required: string): boolean {
  const a = actual.split('.').map(Number)
  const r = required.split('.').map(Number)
  for (let i = 0; i < r.length; i++) {
    const x = a[i] ?? 0
    const y = r[i] ?? 0
    if (x !== y) return x > y
  }
  return true
}
