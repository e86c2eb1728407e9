import { permissiveContracts, type Bus } from '../../bus/index.js'
import { withPipelineBus, type PipelineConnection } from '../connection.js'
import { EventspineError } from '../../errors.js'
import { contentHash } from '../intake.js'
import { findFileCorrelation, resolveCorrelationId, traceTarget } from './lookup.js'
import type { PipelineSource } from '../source.js'
import { followTrace, readTrace } from './read.js'
import { readTopology } from './topology.js'
import { tailEvents, type TailItem, type TailOptions } from './tail.js'
import type { Trace } from './trace.js'

export type ConnectionOptions = PipelineConnection

/** Runs `work` on a bus for reading: envelopes are decoded as stored, no contracts to compile. */
export function withInspectionBus<T>(options: ConnectionOptions, work: (bus: Bus) => Promise<T>): Promise<T> {
  return withPipelineBus({ ...options, contracts: permissiveContracts }, work)
}

export interface TraceOptions extends ConnectionOptions {
  /** A correlation id, or the path of a file that went through the pipeline. */
  readonly target: string
  /** Keep reading until the file is delivered, rejected or a duplicate (or `signal` aborts). */
  readonly follow?: boolean
  readonly signal?: AbortSignal
  /** Called with the first trace and, when following, each change. */
  readonly onUpdate?: (trace: Trace) => void
  /** The project's pipeline (its config): what a file waits for and what ends it. Default the built-in one. */
  readonly source?: PipelineSource
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
    } else correlationId = (await resolveCorrelationId(bus, target.correlationId)) ?? target.correlationId
    const topology = await readTopology(bus, {}, options.source)
    const first = await readTrace(bus, correlationId, topology)
    if (first === null) {
      throw new EventspineError('E_TRACE_NOT_FOUND', `No events for correlation id "${correlationId}" in namespace "${bus.namespace}"`, {
        hint: 'Check the id and --namespace; the index of a file expires 7 days after its first event. `pipeline tail` shows the last 8 characters of the correlation ids of new events; any unique start or end of an id will do.',
      })
    }
    options.onUpdate?.(first)
    if (!options.follow) return first
    let last = first
    for await (const next of followTrace(bus, first, { topology, ...(options.signal ? { signal: options.signal } : {}) })) {
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
 * the blocking connection is closed, the bus is closed, and the command returns normally. A
 * second Ctrl-C exits at once (130). The listeners stay until `dispose()`: ink's exit hook
 * re-raises a signal nobody else listens to, which would kill the process mid-cleanup.
 */
export function interruptSignal(): { signal: AbortSignal; abort(): void; dispose(): void } {
  const controller = new AbortController()
  const abort = () => {
    if (controller.signal.aborted) process.exit(130)
    controller.abort()
  }
  process.on('SIGINT', abort)
  process.on('SIGTERM', abort)
  return {
    signal: controller.signal,
    abort: () => controller.abort(),
    dispose() {
      process.off('SIGINT', abort)
      process.off('SIGTERM', abort)
    },
  }
}
