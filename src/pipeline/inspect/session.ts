import { createBus, permissiveContracts, type Bus } from '../../bus/index.js'
import { EventspineError } from '../../errors.js'
import { redact, resolveRedis } from '../../redis/index.js'
import { contentHash } from '../intake.js'
import { findFileCorrelation, traceTarget } from './lookup.js'
import { followTrace, readTrace } from './read.js'
import { tailEvents, type TailItem, type TailOptions } from './tail.js'
import type { Trace } from './trace.js'

export interface ConnectionOptions {
  /** `--redis-url`; else PIPELINE_REDIS_URL, REDIS_URL, or the project's running managed Redis. */
  readonly url?: string | undefined
  readonly namespace: string
  readonly projectDir?: string
}

/**
 * Runs `work` on a bus for reading. Never starts a managed redis-server: watching a pipeline
 * that is not running has nothing to show, so no Redis is a clear error instead.
 */
export async function withInspectionBus<T>(options: ConnectionOptions, work: (bus: Bus) => Promise<T>): Promise<T> {
  const redis = await resolveRedis({ url: options.url, startIfMissing: false, ...(options.projectDir === undefined ? {} : { projectDir: options.projectDir }) })
  try {
    // Reads only, and decodes envelopes as stored: no contracts to load and compile.
    const bus = await createBus({
      url: redis.url,
      namespace: options.namespace,
      contracts: permissiveContracts,
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

export interface TraceOptions extends ConnectionOptions {
  /** A correlation id, or the path of a file that went through the pipeline. */
  readonly target: string
  /** Keep reading until the file is delivered, rejected or a duplicate (or `signal` aborts). */
  readonly follow?: boolean
  readonly signal?: AbortSignal
  /** Called with the first trace and, when following, each change. */
  readonly onUpdate?: (trace: Trace) => void
}

/** `pipeline trace`: finds the file's correlation id, reads its journey, follows it if asked. */
export async function traceFile(options: TraceOptions): Promise<Trace> {
  const target = await traceTarget(options.target)
  return withInspectionBus(options, async (bus) => {
    let correlationId: string
    if (target.kind === 'file') {
      const found = await findFileCorrelation(bus, target.content)
      if (found === null) {
        throw new EventspineError('E_TRACE_NOT_FOUND', `${target.path} was never received in namespace "${bus.namespace}" (no file with its content, sha256 ${short(contentHash(target.content))}, in ingest's state or among the latest received files)`, {
          hint: 'Check --namespace, drop the file into the pipeline inbox, or trace by correlation id (`pipeline tail` shows them).',
        })
      }
      correlationId = found.correlationId
    } else correlationId = target.correlationId
    const first = await readTrace(bus, correlationId)
    if (first === null) {
      throw new EventspineError('E_TRACE_NOT_FOUND', `No events for correlation id "${correlationId}" in namespace "${bus.namespace}"`, {
        hint: 'Check the id and --namespace; the index of a file expires 7 days after its first event. `pipeline tail` shows the correlation ids of new events.',
      })
    }
    options.onUpdate?.(first)
    if (!options.follow) return first
    let last = first
    for await (const next of followTrace(bus, first, options.signal ? { signal: options.signal } : {})) {
      last = next
      options.onUpdate?.(next)
    }
    return last
  })
}

function short(hash: string): string {
  return `${hash.slice(0, 12)}…`
}

export interface TailRun extends ConnectionOptions, Omit<TailOptions, 'signal'> {
  readonly signal: AbortSignal
  /** Called for each event; return false to stop (e.g. stdout closed). */
  readonly onItem: (item: TailItem) => boolean | void
}

/** `pipeline tail`: follows the streams until `signal` aborts or `onItem` returns false. */
export async function tailPipeline(options: TailRun): Promise<void> {
  const { onItem, url, namespace, projectDir, ...tail } = options
  await withInspectionBus({ url, namespace, ...(projectDir === undefined ? {} : { projectDir }) }, async (bus) => {
    for await (const item of tailEvents(bus, tail)) {
      if (onItem(item) === false) return
    }
  })
}

/**
 * An AbortSignal that Ctrl-C (SIGINT) or SIGTERM aborts, so a follow loop can end cleanly:
 * the blocking connection is closed, the bus is closed, and the command returns normally.
 */
export function interruptSignal(): { signal: AbortSignal; abort(): void; dispose(): void } {
  const controller = new AbortController()
  const abort = () => controller.abort()
  process.once('SIGINT', abort)
  process.once('SIGTERM', abort)
  return {
    signal: controller.signal,
    abort,
    dispose() {
      process.off('SIGINT', abort)
      process.off('SIGTERM', abort)
    },
  }
}
