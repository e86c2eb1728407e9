import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import type { RedisOptions } from 'ioredis'
import { EventspineError } from '../errors.js'
import { connect as connectReady, forEachMaster, newClient, sanitizeRedisError, targetOf, type RedisClient } from '../redis/index.js'
import { redact } from '../redis/redact.js'
import { defaultContractsDir, loadContracts } from '../events/index.js'
import type { ContractChecker } from './contracts.js'
import { DEFAULT_NAMESPACE, MAX_PARTITIONS, keysFor, partitionKeys, partitionOf, type Keys } from './keys.js'
import { startRelay, type Relay } from './partition-relay.js'
import { startSharedRunners } from './partition-share.js'
import { startHeartbeat } from './presence.js'
import { publishEvents, type PublishedEvent } from './publish.js'
import { startRunner, type Runner, type RunnerOptions } from './runner.js'
import { withScripts, type ScriptClient } from './scripts.js'
import type { ConsumerDefinition, NewEvent } from './types.js'

export interface BusOptions {
  /** redis://, rediss://, or redis+cluster://host:port,... (a plain URL of a cluster node works too). */
  readonly url: string
  readonly namespace?: string
  /** Written into `source` of published events. Default: `eventspine@<host>`. */
  readonly source?: string
  /** Validation and upcasting on publish and read. Default: the contracts shipped in `contracts/`. */
  readonly contracts?: ContractChecker
  /** Where warnings go (reconnects, recreated groups, Redis out of memory). Default: stderr. */
  readonly warn?: (message: string) => void
  /** The producer's own version, written into every event it publishes or emits (envelope `producerVersion`). Default: none. */
  readonly producerVersion?: string
  /** Extra ioredis options for every connection (tests shorten timeouts); on a cluster, for each node connection. */
  readonly redisOptions?: RedisOptions
  /**
   * How many partitions the namespace has. Stored with the namespace the first time it is more
   * than 1; a bus opened later without it takes the stored count, one opened with another count
   * is refused (E_PARTITIONS_MISMATCH). Default: the stored count, else 1.
   */
  readonly partitions?: number
}

export interface Bus {
  /** Partition 0's keys, and the namespace's global keys (registry, runtime): all of them when there is one partition. */
  readonly keys: Keys
  /** The keys of each partition, index = partition number (`partitions[0] === keys`). */
  readonly partitions: readonly Keys[]
  readonly partitionCount: number
  /** The partition an event with this partition key goes to (`partitionOf` over the namespace's count). */
  partitionOf(partitionKey: string): number
  readonly namespace: string
  readonly source: string
  readonly producerVersion?: string | undefined
  readonly contracts: ContractChecker
  /** The shared command connection (commits, reads of state, publish). */
  readonly redis: ScriptClient
  readonly warn: (message: string) => void
  /**
   * A new connection of the bus's kind (blocking reads each get their own): on a cluster a
   * Cluster client of its own, `options` applying to each of its node connections.
   */
  connect(options?: RedisOptions): ScriptClient
  publish(events: NewEvent | readonly NewEvent[]): Promise<PublishedEvent[]>
  /** Starts one runner per consumer; stop them with the returned handle. */
  run(consumers: readonly ConsumerDefinition[], options?: RunnerOptions): Runners
  close(): Promise<void>
}

export interface Runners {
  /** One per consumer (with P > 1 partitions, each runs a runner per partition inside). */
  readonly runners: readonly Runner[]
  /** The outbox relay of cross-partition emits (P > 1 only); its lag is `readRelayLag`'s, read from Redis. */
  readonly relay?: Relay
  /** Graceful: stop reading, finish and commit in-flight work, release leases, close. */
  stop(): Promise<void>
  /** Dies on the spot, like kill -9: no commit, no lease released, no relay drained (crash tests). */
  kill(): void
}

/**
 * Opens a bus on a Redis: checks that Redis will not evict stream data, defines the scripts.
 * The returned object is the runtime's one entry point (publish, run, close).
 */
export async function createBus(options: BusOptions): Promise<Bus> {
  const namespace = options.namespace ?? DEFAULT_NAMESPACE
  keysFor(namespace) // validates the name before anything connects
  const warn = options.warn ?? ((message: string) => void process.stderr.write(`warning: ${redact(message)}\n`))
  const opened: RedisClient[] = []
  const track = (client: RedisClient): ScriptClient => {
    // Errors surface through failed commands; the listener keeps ioredis from printing them
    // (with AUTH arguments) and masks credentials should one be logged.
    client.on('error', (error: Error) => void sanitizeRedisError(error))
    opened.push(client)
    return withScripts(client)
  }
  // The first connection must answer (or fail with one clear, redacted error) before anything runs;
  // it also tells whether this is a cluster, and every later connection is of the same kind.
  const first = await connectReady(options.url, { connectTimeoutMs: 5_000 })
  const target = targetOf(options.url, first)
  const redis = track(first)
  const connect = (extra: RedisOptions = {}): ScriptClient =>
    track(newClient(target, { longLived: true, connectTimeoutMs: 5_000 }, { ...options.redisOptions, ...extra }))
  let partitionCount: number
  try {
    await assertNoEviction(redis)
    partitionCount = await settlePartitionCount(redis, keysFor(namespace).partitions, namespace, options.partitions)
  } catch (error) {
    redis.disconnect()
    throw sanitizeRedisError(error)
  }
  const partitions = partitionKeys(namespace, partitionCount)
  const keys = partitions[0] as Keys
  const active = new Set<Runners>()
  const bus: Bus = {
    keys,
    partitions,
    partitionCount,
    partitionOf: (partitionKey) => partitionOf(partitionKey, partitionCount),
    namespace,
    source: options.source ?? `eventspine@${hostname()}`,
    producerVersion: options.producerVersion,
    contracts: options.contracts ?? loadContracts(defaultContractsDir()),
    redis,
    warn,
    connect,
    publish: (events) => publishEvents(bus, Array.isArray(events) ? events : [events as NewEvent]),
    run(consumers, runOptions = {}) {
      // P > 1: a runner per partition, shared with the consumer's other instances, and the outbox relay.
      const views = partitionCount === 1 ? [] : partitions.map((_, p) => partitionBus(bus, p))
      const runners = consumers.map((consumer) => (partitionCount === 1 ? startRunner(bus, consumer, runOptions) : startSharedRunners(bus, views, consumer, runOptions)))
      const relay = partitionCount === 1 ? undefined : startRelay(bus, {
        name: `relay@${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`,
        partitions: () => new Set(runners.flatMap((r) => r.owned())),
        visibilityTimeoutMs: runOptions.visibilityTimeoutMs ?? 10_000,
      })
      // Each running consumer says it is alive, so one whose process is gone can be told apart.
      const ended = new Set<string>()
      for (const r of runners) void r.done.finally(() => ended.add(r.consumer.name))
      const heartbeat = startHeartbeat(bus, consumers, (name) => !ended.has(name))
      const handle: Runners = {
        runners,
        ...(relay === undefined ? {} : { relay }),
        async stop() {
          heartbeat.stop()
          await Promise.all(runners.map((r) => r.stop()))
          await relay?.stop()
          active.delete(handle)
        },
        kill() {
          heartbeat.stop()
          for (const r of runners) r.kill()
          relay?.kill()
          active.delete(handle)
        },
      }
      active.add(handle)
      return handle
    },
    async close() {
      await Promise.all([...active].map((r) => r.stop()))
      await Promise.all(opened.map((c) => c.quit().catch(() => c.disconnect())))
    },
  }
  return bus
}

/**
 * The bus seen from one partition: `keys` are that partition's, everything else (connections,
 * contracts, publish, which still routes each event by its partition key) is shared. The runtime
 * runs a consumer's partition p on `partitionBus(bus, p)`, and a view that merges partitions
 * reads each through one, so everything written against `bus.keys` works on any partition.
 */
export function partitionBus(bus: Bus, partition: number): Bus {
  const keys = bus.partitions[partition]
  if (keys === undefined) throw new Error(`partition ${partition} is not valid: use 0-${bus.partitionCount - 1}`)
  if (keys === bus.keys) return bus
  return {
    ...bus,
    keys,
    // bus.run starts every partition of a consumer itself; a view's copy of it would run partition 0.
    run: () => {
      throw new Error('run consumers on the bus itself (it runs every partition), not on a partition view')
    },
  }
}

/**
 * The namespace's partition count: the stored one, or the one asked for (stored when above 1, so
 * every later process agrees). Changing it would move keys between partitions: refused.
 */
async function settlePartitionCount(redis: RedisClient, key: string, namespace: string, wanted: number | undefined): Promise<number> {
  if (wanted !== undefined && (!Number.isInteger(wanted) || wanted < 1 || wanted > MAX_PARTITIONS)) {
    throw new EventspineError('E_PARTITIONS_INVALID', `${wanted} is not a partition count`, { hint: `Use a whole number from 1 to ${MAX_PARTITIONS}.` })
  }
  // A namespace used with one partition stores no count; its data is under `{ns}` and would be
  // left behind by partitions: it keeps its one (its registry, which is global, says it was used).
  if (wanted !== undefined && wanted > 1 && (await redis.get(key)) === null && (await redis.exists(keysFor(namespace).streams)) === 0) {
    await redis.set(key, String(wanted), 'NX')
  }
  const raw = await redis.get(key)
  const stored = raw === null ? 1 : Number(raw)
  if (wanted !== undefined && wanted !== stored) {
    throw new EventspineError('E_PARTITIONS_MISMATCH', `namespace ${namespace} has ${stored} partition${stored === 1 ? '' : 's'}, not ${wanted}`, {
      hint: `Leave out the partition count to use the namespace's ${stored}, or use another namespace (\`pipeline clean\` removes this one).`,
    })
  }
  return stored
}

/** Stream data must never be evicted: refuse any policy but noeviction (on every master of a cluster). */
async function assertNoEviction(redis: RedisClient): Promise<void> {
  const policies = await forEachMaster(redis, async (node) => /maxmemory_policy:(\S+)/.exec(await node.info('memory'))?.[1])
  const policy = policies.find((p) => p !== undefined && p !== 'noeviction')
  if (policy !== undefined) {
    throw new EventspineError('E_REDIS_EVICTION_POLICY', `Redis evicts keys under memory pressure (maxmemory-policy ${policy}), which can silently drop stream entries`, {
      hint: 'Run `redis-cli CONFIG SET maxmemory-policy noeviction` (and set it in redis.conf), or use another Redis.',
    })
  }
}
