import { execFile } from 'node:child_process'
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { EventspineError } from '../errors.js'
import { findOnPath, redisServerEnv, requireRedisServer } from './binary.js'
import { RedisErrorCode } from './errors.js'
import { parseInfo } from './inspect.js'
import { freePort, isPidAlive, isRedisServerPid, probeClient, tailOf, terminate, waitUntilServing } from './process.js'
import { redisServerArgs, spawnRedisServer } from './server.js'
import { CLUSTER_SLOTS, parseClusterNodes, slotCoverage, type ClusterNodeView } from './topology.js'

const run = promisify(execFile)

/**
 * A Redis Cluster of redis-server processes on loopback, each node's AOF and nodes.conf in its
 * own folder `<dir>/node-<port>`, described by `<dir>/cluster.json`. Started again from that
 * folder, every node keeps its identity, port and slots (nodes.conf), so the data comes back.
 */
export interface LocalClusterOptions {
  readonly dir: string
  /** Default 3 (the fewest Redis accepts). */
  readonly masters?: number
  /** Replicas per master. Default 0. */
  readonly replicas?: number
  /** `always` for tests of failover: nothing acknowledged may be lost with a master. Default everysec. */
  readonly appendfsync?: 'always' | 'everysec'
  /** How long a master may be silent before its replica is promoted. Default 5000 ms. */
  readonly nodeTimeoutMs?: number
  /** `ours`: the nodes die with this process (tests); `detached`: they outlive it (`pipeline up --cluster`). */
  readonly lifetime: 'ours' | 'detached'
}

/** What `<dir>/cluster.json` records. */
export interface ClusterRecord {
  url: string
  masters: number
  replicas: number
  appendfsync: 'always' | 'everysec'
  nodeTimeoutMs: number
  ports: number[]
  /** The pid of each node's last start, by port. */
  pids: Record<string, number>
  startedAt: string
}

export interface LocalCluster {
  /** `redis+cluster://127.0.0.1:p1,127.0.0.1:p2,...` (every node is a seed). */
  readonly url: string
  readonly dir: string
  readonly ports: readonly number[]
  /** False when it was already running (or was started from its folder without a new `create`). */
  readonly created: boolean
  pidOf(port: number): number | undefined
  /** Each node as the cluster sees it now (asked of the first node that answers). */
  nodes(): Promise<(ClusterNodeView & { pid: number | undefined })[]>
  /** kill -9 of one node (fault tests), resolved once it is gone; its folder stays, `startNode` brings it back. */
  killNode(port: number): Promise<void>
  startNode(port: number): Promise<void>
  /** Until every live node says `cluster_state:ok`, all slots are served and replicas are in sync. */
  waitUntilHealthy(timeoutMs?: number): Promise<void>
  /** SIGTERM every node (each writes its AOF and nodes.conf), SIGKILL after 10 s. */
  stop(): Promise<void>
}

export function clusterUrl(ports: readonly number[]): string {
  return `redis+cluster://${ports.map((port) => `127.0.0.1:${port}`).join(',')}`
}

export function readClusterRecord(dir: string): ClusterRecord | undefined {
  try {
    const value = JSON.parse(readFileSync(join(dir, 'cluster.json'), 'utf8')) as Partial<ClusterRecord>
    if (!Array.isArray(value.ports) || typeof value.url !== 'string' || typeof value.pids !== 'object') return undefined
    return value as ClusterRecord
  } catch {
    return undefined
  }
}

/** The recorded cluster when every node's pid is alive and it is healthy; else undefined. */
export async function findLiveCluster(dir: string): Promise<ClusterRecord | undefined> {
  const record = readClusterRecord(dir)
  if (record === undefined || !record.ports.every((port) => alive(record.pids[String(port)]))) return undefined
  return (await healthProblem(record.ports, record.replicas > 0)) === undefined ? record : undefined
}

/**
 * Starts the cluster recorded in `dir` (or reuses it when it runs), else makes a new one there:
 * free ports, the nodes, `redis-cli --cluster create`. Returns once it is healthy.
 */
export async function startLocalCluster(options: LocalClusterOptions): Promise<LocalCluster> {
  mkdirSync(options.dir, { recursive: true })
  const binary = await requireRedisServer()
  const saved = readClusterRecord(options.dir)
  const record: ClusterRecord = saved ?? {
    url: '',
    masters: options.masters ?? 3,
    replicas: options.replicas ?? 0,
    appendfsync: options.appendfsync ?? 'everysec',
    nodeTimeoutMs: options.nodeTimeoutMs ?? 5_000,
    ports: [],
    pids: {},
    startedAt: '',
  }
  if (saved === undefined) {
    if (record.masters < 3) throw new EventspineError('E_FLAG', `a Redis Cluster needs at least 3 masters, not ${record.masters}`, { hint: 'Use 3 or more.' })
    const ports = new Set<number>()
    while (ports.size < record.masters * (1 + record.replicas)) ports.add(await freePort())
    record.ports = [...ports]
    record.url = clusterUrl(record.ports)
  }
  const nodeDir = (port: number) => join(options.dir, `node-${port}`)
  const write = () => {
    const path = join(options.dir, 'cluster.json')
    writeFileSync(`${path}.tmp`, `${JSON.stringify(record, null, 2)}\n`)
    renameSync(`${path}.tmp`, path)
  }
  const startNode = async (port: number): Promise<void> => {
    const dir = nodeDir(port)
    mkdirSync(dir, { recursive: true })
    const logFile = join(dir, 'redis.log')
    const args = [...redisServerArgs({ port, dir, appendfsync: record.appendfsync, logFile, cluster: { nodeTimeoutMs: record.nodeTimeoutMs } }), '--loglevel', 'warning']
    const child = spawnRedisServer(binary.path, args, { cwd: dir, lifetime: options.lifetime })
    const pid = child.pid
    if (pid !== undefined && (await waitUntilServing(port, pid, 60_000))) {
      record.pids[String(port)] = pid
      write()
      return
    }
    if (pid !== undefined && isPidAlive(pid)) await terminate(pid)
    const log = tailOf(logFile)
    throw new EventspineError(RedisErrorCode.StartFailed, `cluster node ${port} (${binary.path}) did not start.`, {
      hint: `See its log at ${logFile}${log ? `; last lines:\n${log}` : ''}${saved === undefined ? '' : `\nIf its port is taken now, stop what holds it, or delete ${options.dir} to make a new cluster (its data goes).`}`,
    })
  }
  const alreadyLive = saved !== undefined && (await findLiveCluster(options.dir)) !== undefined
  const stopAll = async () => {
    await Promise.all(record.ports.map((port) => record.pids[String(port)]).filter(alive).map((pid) => terminate(pid)))
  }
  // Dies with us when asked to, whatever way we end (a fault test must not leave nodes behind);
  // a cluster that was running already is not ours to kill.
  const killOnExit = () => record.ports.forEach((port) => killPid(record.pids[String(port)]))
  if (options.lifetime === 'ours' && !alreadyLive) process.once('exit', killOnExit)
  try {
    if (!alreadyLive) {
      await Promise.all(record.ports.filter((port) => !alive(record.pids[String(port)])).map(startNode))
      if (saved === undefined || (await needsCreate(record.ports))) {
        await createCluster(record)
      }
      record.startedAt = new Date().toISOString()
      write()
    }
    await waitHealthy(() => record.ports, record.replicas > 0, 60_000)
  } catch (error) {
    if (!alreadyLive) await stopAll()
    process.off('exit', killOnExit)
    throw error
  }
  return {
    url: record.url,
    dir: options.dir,
    ports: record.ports,
    created: saved === undefined,
    pidOf: (port) => record.pids[String(port)],
    nodes: () => recordedNodes(record),
    async killNode(port) {
      const pid = record.pids[String(port)]
      killPid(pid)
      while (alive(pid)) await sleep(10)
    },
    startNode,
    // The nodes alive now (a killed one is not waited for): asked again on every look.
    waitUntilHealthy: (timeoutMs = 60_000) => waitHealthy(() => record.ports.filter((port) => alive(record.pids[String(port)])), record.replicas > 0, timeoutMs),
    async stop() {
      process.off('exit', killOnExit)
      await stopAll()
    },
  }
}

/**
 * A node's recorded pid that is still a redis-server. Only a real pid: 0 and negative ones would
 * signal a process group, or every process we may signal; and a pid from before a reboot may be
 * another program's by now (where /proc can tell).
 */
function alive(pid: number | undefined): pid is number {
  if (pid === undefined || !Number.isInteger(pid) || pid <= 0 || !isPidAlive(pid)) return false
  return process.platform !== 'linux' || isRedisServerPid(pid)
}

/** Each node of a recorded cluster as the cluster sees it now, with the pid we started it as. */
export async function recordedNodes(record: ClusterRecord): Promise<(ClusterNodeView & { pid: number | undefined })[]> {
  const views = await askNodes(record.ports)
  return views.map((view) => ({ ...view, pid: record.pids[String(view.port)] }))
}

function killPid(pid: number | undefined): void {
  if (!alive(pid)) return
  try {
    process.kill(pid, 'SIGKILL')
  } catch {
    // already gone
  }
}

/** A node that knows no other node has not joined a cluster yet (its nodes.conf is new). */
async function needsCreate(ports: readonly number[]): Promise<boolean> {
  const info = await clusterInfo(ports[0] as number)
  return Number(info?.['cluster_known_nodes'] ?? '1') < ports.length
}

async function createCluster(record: ClusterRecord): Promise<void> {
  const cli = findOnPath('redis-cli')
  if (cli === undefined) {
    throw new EventspineError(RedisErrorCode.BinaryMissing, 'redis-cli was not found on PATH: it creates the cluster.', {
      hint: 'Install it with `sudo apt-get install redis-tools` (Debian/Ubuntu; redis-server brings it) or `brew install redis` (macOS).',
    })
  }
  const nodes = record.ports.map((port) => `127.0.0.1:${port}`)
  try {
    await run(cli, ['--cluster', 'create', ...nodes, '--cluster-replicas', String(record.replicas), '--cluster-yes'], { timeout: 60_000, env: redisServerEnv() })
  } catch (error) {
    const output = error as { stdout?: string; stderr?: string; message?: string }
    const said = `${output.stdout ?? ''}\n${output.stderr ?? ''}`.trim().split('\n').slice(-5).join('\n')
    throw new EventspineError(RedisErrorCode.StartFailed, 'redis-cli --cluster create failed.', { hint: said || (output.message ?? '') })
  }
}

async function clusterInfo(port: number): Promise<Record<string, string> | undefined> {
  const client = probeClient(port, 1_000)
  try {
    await client.connect()
    return parseInfo(String(await client.call('CLUSTER', 'INFO')))
  } catch {
    return undefined
  } finally {
    client.disconnect()
  }
}

async function askNodes(ports: readonly number[]): Promise<ClusterNodeView[]> {
  for (const port of ports) {
    const client = probeClient(port, 1_000)
    try {
      await client.connect()
      return parseClusterNodes(String(await client.call('CLUSTER', 'NODES')))
    } catch {
      // down: ask the next one
    } finally {
      client.disconnect()
    }
  }
  return []
}

/** Why the cluster on `ports` is not yet fit to use, or undefined when it is. */
async function healthProblem(ports: readonly number[], withReplicas: boolean): Promise<string | undefined> {
  for (const port of ports) {
    const info = await clusterInfo(port)
    if (info === undefined) return `node ${port} does not answer`
    if (info['cluster_state'] !== 'ok') return `node ${port} says cluster_state:${info['cluster_state'] ?? '?'}`
    if (Number(info['cluster_known_nodes']) < ports.length) return `node ${port} knows ${info['cluster_known_nodes'] ?? 0} of ${ports.length} nodes`
  }
  // A node started again is still flagged failing by the others for a moment: ask each of them.
  for (const port of ports) {
    const flagged = (await askNodes([port])).find((n) => n.failing && ports.includes(n.port))
    if (flagged !== undefined) return `node ${port} still marks node ${flagged.port} failing`
  }
  const nodes = await askNodes(ports)
  const { covered } = slotCoverage(nodes)
  if (covered !== CLUSTER_SLOTS) return `${covered} of ${CLUSTER_SLOTS} slots are served`
  if (withReplicas) {
    // Every live node serves slots or is a replica in sync (right after create, replicas still say master).
    for (const node of nodes.filter((n) => !n.failing && n.slots.length === 0)) {
      if (node.role === 'master') return `node ${node.port} has not become a replica yet`
      const client = probeClient(node.port, 1_000)
      try {
        await client.connect()
        const link = parseInfo(await client.info('replication'))['master_link_status']
        if (link !== 'up') return `replica ${node.port} is not in sync with its master yet`
      } catch {
        return `replica ${node.port} does not answer`
      } finally {
        client.disconnect()
      }
    }
  }
  return undefined
}

async function waitHealthy(livePorts: () => readonly number[], withReplicas: boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const ports = livePorts()
    const problem = await healthProblem(ports, withReplicas)
    if (problem === undefined) return
    if (Date.now() > deadline) {
      throw new EventspineError(RedisErrorCode.StartFailed, `the cluster on ports ${ports.join(', ')} did not become healthy: ${problem}.`, {
        hint: 'See the redis.log in each node folder.',
      })
    }
    await sleep(100)
  }
}
