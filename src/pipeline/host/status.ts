import { resolve } from 'node:path'
import { createBus } from '../../bus/bus.js'
import { GONE_AFTER_MS, registeredConsumers, type RegisteredConsumer } from '../../bus/presence.js'
import { consumerStatus } from '../../bus/status.js'
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
  const base = { namespace, up, http: up?.http ?? null, goneAfterMs: GONE_AFTER_MS }
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
    if (runtime !== null) return { ...base, redis: where, figuresFrom: 'runtime', http: runtime.http, stages: runtime.stages, recent: runtime.recent, consumers }
    const status = await consumerStatus(bus, (options.source ?? builtinSource()).consumers(listingHost()))
    return { ...base, redis: where, figuresFrom: 'redis', stages: stageFigures(status, new Map(), null), recent: [], consumers }
  } finally {
    await bus.close()
  }
}
