import { Cluster, type ChainableCommander, type Redis } from 'ioredis'
import { keySlot } from './topology.js'

/**
 * Commands that are not about one key, on a standalone Redis or a Cluster: SCAN, INFO, CONFIG
 * and DBSIZE must reach every master of a cluster (a Cluster client sends a keyless command to
 * one node at random), and a pipeline must stay within one slot. One place for each.
 */
export type RedisClient = Redis | Cluster

export function isCluster(client: RedisClient): client is Cluster {
  return client instanceof Cluster
}

/** Every master of a cluster (by address, so the order is stable), or the one Redis. */
export function masters(client: RedisClient): Redis[] {
  if (!isCluster(client)) return [client]
  return client.nodes('master').sort((a, b) => address(a).localeCompare(address(b)))
}

export function address(node: Redis): string {
  return `${node.options.host ?? '127.0.0.1'}:${node.options.port ?? 6379}`
}

/** Runs `fn` on every master at once; results in the order of {@link masters}. */
export async function forEachMaster<T>(client: RedisClient, fn: (node: Redis) => Promise<T>): Promise<T[]> {
  return Promise.all(masters(client).map(fn))
}

export interface ScanOptions {
  readonly match: string
  readonly count?: number
  /** SCAN's TYPE filter (`stream`, `hash`, ...). */
  readonly type?: string
}

/**
 * One page of a SCAN over the whole keyspace: on a cluster, master after master. The cursor is
 * Redis's own on a standalone Redis and `<master>-<cursor>` on a cluster; '0' starts and ends.
 */
export async function scanPage(client: RedisClient, cursor: string, options: ScanOptions): Promise<{ cursor: string; keys: string[] }> {
  const args: (string | number)[] = ['MATCH', options.match, 'COUNT', options.count ?? 1000, ...(options.type === undefined ? [] : ['TYPE', options.type])]
  if (!isCluster(client)) {
    const [next, keys] = (await client.call('SCAN', cursor, ...args)) as [string, string[]]
    return { cursor: next, keys }
  }
  const nodes = masters(client)
  const [at, nodeCursor] = cursor === '0' ? [0, '0'] : [Number(cursor.split('-')[0]), cursor.split('-')[1] ?? '0']
  const node = nodes[at]
  if (node === undefined) return { cursor: '0', keys: [] }
  const [next, keys] = (await node.call('SCAN', nodeCursor, ...args)) as [string, string[]]
  if (next !== '0') return { cursor: `${at}-${next}`, keys }
  return { cursor: at + 1 < nodes.length ? `${at + 1}-0` : '0', keys }
}

/** Every key matching, across every master (a key met twice, moved by a reshard meanwhile, once). */
export async function scanAll(client: RedisClient, options: ScanOptions): Promise<string[]> {
  const keys = new Set<string>()
  let cursor = '0'
  do {
    const page = await scanPage(client, cursor, options)
    cursor = page.cursor
    for (const key of page.keys) keys.add(key)
  } while (cursor !== '0')
  return [...keys]
}

type Replies = [error: Error | null, result: unknown][]

/**
 * One pipeline per slot (a Cluster refuses a pipeline whose keys live on different slots'
 * nodes, and MULTI needs one slot), sent at once; the replies come back in the order of `items`.
 * On a standalone Redis it is one pipeline.
 */
export async function pipelinePerSlot<T>(
  client: RedisClient,
  items: readonly T[],
  keyOf: (item: T) => string,
  add: (pipeline: ChainableCommander, item: T) => void,
): Promise<Replies> {
  if (items.length === 0) return []
  const groups = new Map<number, number[]>()
  items.forEach((item, i) => {
    const slot = isCluster(client) ? keySlot(keyOf(item)) : 0
    const group = groups.get(slot)
    if (group === undefined) groups.set(slot, [i])
    else group.push(i)
  })
  const replies: Replies = new Array<Replies[number]>(items.length)
  await Promise.all(
    [...groups.values()].map(async (indexes) => {
      const pipeline = client.pipeline()
      for (const i of indexes) add(pipeline, items[i] as T)
      const got = (await pipeline.exec()) ?? []
      indexes.forEach((i, n) => (replies[i] = got[n] ?? [new Error('no reply'), null]))
    }),
  )
  return replies
}

/** UNLINK of many keys, one command per slot; how many existed. */
export async function unlinkAll(client: RedisClient, keys: readonly string[]): Promise<number> {
  const replies = await pipelinePerSlot(client, keys, (key) => key, (p, key) => p.unlink(key))
  const failed = replies.find(([error]) => error !== null)
  if (failed !== undefined) throw failed[0]
  return replies.reduce((sum, [, n]) => sum + Number(n), 0)
}
