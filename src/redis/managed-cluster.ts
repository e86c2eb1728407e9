import { join, resolve } from 'node:path'
import { EventspineError } from '../errors.js'
import { findLiveCluster, readClusterRecord, recordedNodes, startLocalCluster, type ClusterRecord, type LocalCluster } from './cluster.js'
import { byShard, type ClusterNodeView } from './topology.js'
import { isPidAlive, isRedisServerPid, terminate } from './process.js'

/**
 * The project's managed Redis Cluster (`pipeline up --cluster N`): its nodes' folders and
 * `cluster.json` under `.pipeline/cluster/`. Like the managed redis-server, it outlives a
 * `--detach`ed up, later commands find it, and `pipeline down` stops it; its data stays.
 */
export function managedClusterDir(projectDir: string): string {
  return join(resolve(projectDir), '.pipeline', 'cluster')
}

export interface ManagedClusterShape {
  /** Masters (3 or more). */
  readonly masters: number
  /** Replicas per master. */
  readonly replicas: number
}

export interface ManagedCluster {
  readonly cluster: LocalCluster
  /** True when this process started its nodes (false: they were running). */
  readonly started: boolean
  /** Stops the nodes when this process started them and was not asked to keep them. */
  release(): Promise<void>
}

/** The running managed cluster, if every node is alive and it is healthy. */
export function findLiveManagedCluster(projectDir: string): Promise<ClusterRecord | undefined> {
  return findLiveCluster(managedClusterDir(projectDir))
}

/** The managed cluster's folder and nodes (asked of the cluster), or undefined when it has none. */
export async function describeManagedCluster(projectDir: string): Promise<{ dir: string; nodes: (ClusterNodeView & { pid: number | undefined })[] } | undefined> {
  const dir = managedClusterDir(projectDir)
  const record = readClusterRecord(dir)
  return record === undefined ? undefined : { dir, nodes: byShard(await recordedNodes(record)) }
}

/**
 * Reuses the project's running cluster, starts it again from its folder (same nodes, slots and
 * data), or creates one of the asked shape. A folder of another shape is refused: its data
 * would have to move.
 */
export async function ensureManagedCluster(options: {
  projectDir: string
  shape: ManagedClusterShape
  durability: 'default' | 'strict'
  keepRunning: boolean
}): Promise<ManagedCluster> {
  const dir = managedClusterDir(options.projectDir)
  const saved = readClusterRecord(dir)
  if (saved !== undefined && (saved.masters !== options.shape.masters || saved.replicas !== options.shape.replicas)) {
    throw new EventspineError('E_FLAG', `this project's managed cluster has ${saved.masters} masters with ${saved.replicas} replicas each, not ${options.shape.masters} with ${options.shape.replicas}`, {
      hint: `Use --cluster ${saved.masters} --cluster-replicas ${saved.replicas}, or \`pipeline down\` and delete ${dir} for a new one (its data goes).`,
    })
  }
  const running = saved !== undefined && (await findLiveCluster(dir)) !== undefined
  const cluster = await startLocalCluster({
    dir,
    masters: options.shape.masters,
    replicas: options.shape.replicas,
    appendfsync: options.durability === 'strict' ? 'always' : 'everysec',
    lifetime: 'detached',
  })
  if (running || options.keepRunning) return { cluster, started: !running, release: async () => {} }
  // If we exit without release(), still stop it (SIGTERM: each node writes its AOF).
  const onExit = () => cluster.ports.forEach((port) => signal(cluster.pidOf(port)))
  process.once('exit', onExit)
  let released = false
  return {
    cluster,
    started: true,
    async release() {
      if (released) return
      released = true
      process.off('exit', onExit)
      await cluster.stop()
    },
  }
}

/**
 * Stops the project's managed cluster (`pipeline down`). Only pids that are still redis-server
 * processes are signalled: a pid of a stale record may belong to something else by now.
 */
export async function stopManagedCluster(projectDir: string): Promise<{ pids: number[] }> {
  const record = readClusterRecord(managedClusterDir(projectDir))
  if (record === undefined) return { pids: [] }
  const pids = Object.values(record.pids).filter((pid) => Number.isInteger(pid) && pid > 0 && isPidAlive(pid) && isRedisServerPid(pid))
  await Promise.all(pids.map((pid) => terminate(pid)))
  return { pids }
}

function signal(pid: number | undefined): void {
  if (pid === undefined || !Number.isInteger(pid) || pid <= 0) return
  try {
    process.kill(pid, 'SIGTERM')
  } catch {
    // already gone
  }
}
