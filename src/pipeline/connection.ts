import { createBus, type Bus, type ContractChecker } from '../bus/index.js'
import { redact, resolveRedis } from '../redis/index.js'

export const SAVED_DATA_NOTICE = "pipeline: started this project's redis-server to read its saved data (it stops again when this command ends)"

/** Where a command that works on a running pipeline finds Redis. */
export interface PipelineConnection {
  /** `--redis-url`; else PIPELINE_REDIS_URL, REDIS_URL, or the project's running managed Redis. */
  readonly url?: string | undefined
  readonly namespace: string
  readonly projectDir?: string
}

/**
 * Runs `work` on a bus over the project's Redis, then closes both. With no Redis running, the
 * project's managed redis-server is started on its saved data (AOF) for the length of `work`:
 * the data of a stopped `pipeline up` stays readable. A project with no saved data has nothing
 * to work on: E_REDIS_NOT_RUNNING, with what to run.
 */
export async function withPipelineBus<T>(
  options: PipelineConnection & { readonly contracts?: ContractChecker },
  work: (bus: Bus) => Promise<T>,
): Promise<T> {
  const redis = await resolveRedis({ url: options.url, startIfMissing: 'when-saved', ...(options.projectDir === undefined ? {} : { projectDir: options.projectDir }) })
  // stderr only: stdout may be --json or --ndjson.
  if (redis.source === 'managed-started') process.stderr.write(`${SAVED_DATA_NOTICE}\n`)
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
