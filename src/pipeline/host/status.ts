import { resolve } from 'node:path'
import { createBus } from '../../bus/bus.js'
import { GONE_AFTER_MS, registeredConsumers, type RegisteredConsumer } from '../../bus/presence.js'
import { readRelayLag } from '../../bus/partition-relay.js'
import { consumerStatus, type PartitionStatus } from '../../bus/status.js'
import { hasCode } from '../../errors.js'
import { DEFAULT_NAMESPACE } from '../../bus/keys.js'
import { RedisErrorCode, resolveRedis } from '../../redis/index.js'
import { builtinSource, listingHost, type PipelineSource } from '../source.js'
import { readRuntime } from './collect.js'
import { stageFigures, type FileOutcome, type StageFigures } from './figures.js'
import { findLiveUp, type UpRecord } from './record.js'

export interface PipelineStatus {
  /** Null when no Redis was given and no managed one runs for the project. */
  readonly redis: { readonly url: string; readonly source: string } | null
  readonly namespace: string
  /** `runtime`: figures of a live `pipeline up` (with latency); `redis`: counters only. */
  readonly figuresFrom: 'runtime' | 'redis' | null
  /** The live `pipeline up` of this project, if any. */
  readonly up: UpRecord | null
  readonly http: string | null
  readonly stages: readonly StageFigures[]
  readonly recent: readonly FileOutcome[]
  /** Consumers registered in the namespace, each with when an instance was last seen and whether it is gone. */
  readonly consumers: readonly RegisteredConsumer[]
  /** A consumer with no instance seen for this long is gone. */
  readonly goneAfterMs: number
  /** With more than one partition: who owns each partition of each consumer, and the outbox; null with one. */
  readonly partitions: PartitionsView | null
}

export interface PartitionsView {
  readonly count: number
  /** Cross-partition emits waiting for the relay in each partition's outbox, by partition. */
  readonly outbox: readonly number[]
  readonly consumers: readonly {
    readonly consumer: string
    /** Partitions whose breaker is open: the consumer takes no events there. */
    readonly paused: readonly number[]
    /** Each partition's owner (null: unowned), figures and per-stream lag and pending. */
    readonly partitions: readonly PartitionStatus[]
  }[]
}

/**
 * The per-stage figures once: from the runtime key a live `pipeline up` refreshes every second
 * (with latency), else straight from Redis counters. Never starts Redis.
 */
export async function pipelineStatus(options: { redisUrl?: string | undefined; namespace?: string | undefined; projectDir: string; source?: PipelineSource }): Promise<PipelineStatus> {
  const projectDir = resolve(options.projectDir)
  const up = findLiveUp(projectDir) ?? null
  // No namespace asked for: the one the running `pipeline up` of this project uses.
  const namespace = options.namespace ?? up?.namespace ?? DEFAULT_NAMESPACE
  const base = { namespace, up, http: up?.http ?? null, goneAfterMs: GONE_AFTER_MS, partitions: null }
  let redis
  try {
    redis = await resolveRedis({ url: options.redisUrl, projectDir, startIfMissing: false })
  } catch (error) {
    if (hasCode(error, RedisErrorCode.NotRunning)) return { ...base, redis: null, figuresFrom: null, stages: [], recent: [], consumers: [] }
    throw error
  }
  const bus = await createBus({ url: redis.url, namespace, warn: () => {} })
  try {
    const [runtime, consumers] = await Promise.all([readRuntime(bus), registeredConsumers(bus)])
    const where = { url: redis.displayUrl, source: redis.source }
    // The partition view is read here even beside a live `up`: owners change as instances come and go.
    const multi = bus.partitionCount > 1
    const [status, outbox] = runtime !== null && !multi ? [[], []] : await Promise.all([consumerStatus(bus, (options.source ?? builtinSource()).consumers(listingHost())), multi ? readRelayLag(bus).then((lag) => lag.map((l) => l.waiting)) : []])
    const partitions: PartitionsView | null = !multi
      ? null
      : {
          count: bus.partitionCount,
          outbox,
          consumers: status.map((c) => ({ consumer: c.consumer, paused: (c.partitions ?? []).filter((p) => p.breakerOpen).map((p) => p.partition), partitions: c.partitions ?? [] })),
        }
    if (runtime !== null) return { ...base, redis: where, figuresFrom: 'runtime', http: runtime.http, stages: runtime.stages, recent: runtime.recent, consumers, partitions }
    return { ...base, redis: where, figuresFrom: 'redis', stages: stageFigures(status, new Map(), null), recent: [], consumers, partitions }
  } finally {
    await bus.close()
  }
}
