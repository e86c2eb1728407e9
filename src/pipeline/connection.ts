import { createBus, type Bus, type ContractChecker } from '../bus/index.js'
import { redact, resolveRedis } from '../redis/index.js'

/** Where a command that works on a running pipeline finds Redis. */
export interface PipelineConnection {
  /** `--redis-url`; else PIPELINE_REDIS_URL, REDIS_URL, or the project's running managed Redis. */
  readonly url?: string | undefined
  readonly namespace: string
  readonly projectDir?: string
}

/**
 * Runs `work` on a bus over the project's Redis, then closes both. Never starts a managed
 * redis-server: watching or repairing a pipeline that is not running has nothing to work on,
 * so no Redis is a clear error (E_REDIS_NOT_RUNNING, with what to run) instead.
 */
export async function withPipelineBus<T>(
  options: PipelineConnection & { readonly contracts?: ContractChecker },
  work: (bus: Bus) => Promise<T>,
): Promise<T> {
  const redis = await resolveRedis({ url: options.url, startIfMissing: false, ...(options.projectDir === undefined ? {} : { projectDir: options.projectDir }) })
  try {
    const bus = await createBus({
      url: redis.url,
      namespace: options.namespace,
      ...(options.contracts === undefined ? {} : { contracts: options.contracts }),
      warn: (m) => void process.stderr.write(`warning: ${redact(m)}\n`),
    })
    try {
      return await work(bus)
    } finally {
      await bus.close()
    }
  } finally {
    await redis.release()
  }
}
