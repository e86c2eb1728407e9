// The operator's tools for when something goes wrong (README): inspect, re-deliver and purge dead
// letters, and replay a window through a fixed consumer, on a running pipeline's Redis or its saved data.
import { resolve } from 'node:path'
import {
  cancelReplay,
  findDeadLetter,
  listDeadLetters,
  purgeDeadLetters,
  redeliverDeadLetters,
  replayConsumer,
  type Bus,
  type ConsumerDefinition,
  type DeadLetter,
  type DeadLetterSummary,
  type PurgeResult,
  type RedeliverySummary,
  type ReplayProgress,
  type ReplaySummary,
} from '../bus/index.js'
import { EventspineError } from '../errors.js'
import { withPipelineBus, type PipelineConnection } from './connection.js'
import { builtinSource, type PipelineSource } from './source.js'

/** Where the operator's tools find Redis: a running one, or the project's saved data (never a new, empty one). */
export type RepairConnection = PipelineConnection

export interface PipelineHandlers {
  /** Where deliver writes. Default `<projectDir>/.pipeline/out`, as `pipeline up`. */
  readonly outDir?: string | undefined
  /** Whose handlers run: the project's pipeline (its config). Default the built-in one. */
  readonly source?: PipelineSource | undefined
}

/** The operator's tools run handlers, so events are validated against the shipped contracts and the project's. */
function withBus<T>(options: RepairConnection & PipelineHandlers, work: (bus: Bus) => Promise<T>): Promise<T> {
  return withPipelineBus({ ...options, contracts: (options.source ?? builtinSource()).contracts() }, work)
}

function consumers(options: RepairConnection & PipelineHandlers) {
  const projectDir = resolve(options.projectDir ?? process.cwd())
  return (options.source ?? builtinSource()).consumers({
    outDir: options.outDir ?? resolve(projectDir, '.pipeline', 'out'),
    namespace: options.namespace,
    redisUrl: options.url ?? '',
    tmpDir: resolve(projectDir, '.pipeline', 'consumers'),
  })
}

/** `pipeline dlq list`. */
export function dlqList(options: RepairConnection & { consumer?: string | undefined; limit?: number }): Promise<DeadLetterSummary[]> {
  return withBus(options, (bus) =>
    listDeadLetters(bus, { ...(options.consumer === undefined ? {} : { consumer: options.consumer }), ...(options.limit === undefined ? {} : { limit: options.limit }) }),
  )
}

/** `pipeline dlq show`. */
export function dlqShow(options: RepairConnection & { id: string }): Promise<DeadLetter> {
  return withBus(options, (bus) => findDeadLetter(bus, options.id))
}

/** `pipeline dlq replay`: re-delivers to the project's consumers (the built-in pipeline's without a config). */
export function dlqReplay(options: RepairConnection & PipelineHandlers & DeadLetterChoice): Promise<RedeliverySummary> {
  return withBus(options, (bus) => replayDeadLettersOn(bus, consumers(options), options))
}

/** Which dead letters a replay takes: these ids, or all (of one consumer when given). */
export interface DeadLetterChoice {
  readonly ids: readonly string[]
  readonly all: boolean
  readonly consumer?: string | undefined
}

/** The re-delivery of `dlq replay` on a bus already open: `up`'s console runs this same path with the host's consumers. */
export function replayDeadLettersOn(bus: Bus, handlers: readonly ConsumerDefinition[], choice: DeadLetterChoice): Promise<RedeliverySummary> {
  return redeliverDeadLetters(bus, {
    consumers: handlers,
    ids: choice.ids,
    all: choice.all,
    ...(choice.consumer === undefined ? {} : { consumer: choice.consumer }),
  })
}

/** `pipeline dlq purge`: these dead letters (ids as `dlq list` shows them), or all (of one consumer when given). */
export function dlqPurge(options: RepairConnection & { consumer?: string | undefined; ids?: readonly string[] | undefined }): Promise<PurgeResult[]> {
  return withBus(options, (bus) => purgeDeadLetters(bus, { ...(options.consumer === undefined ? {} : { consumer: options.consumer }), ...(options.ids === undefined ? {} : { ids: options.ids }) }))
}

export interface ReplayRun extends RepairConnection, PipelineHandlers {
  readonly consumer: string
  readonly since?: number | undefined
  readonly from?: string | undefined
  readonly to?: string | undefined
  readonly dryRun?: boolean
  readonly rebuild?: boolean
  readonly fresh?: boolean
  readonly onProgress?: (progress: ReplayProgress) => void
}

/** `pipeline replay`: one of the project's consumers, again, over a window. */
export function replayPipeline(options: ReplayRun): Promise<ReplaySummary> {
  const all = consumers(options)
  const consumer = all.find((c) => c.name === options.consumer)
  if (!consumer) {
    return Promise.reject(
      new EventspineError('E_REPLAY_UNKNOWN_CONSUMER', `no consumer named "${options.consumer}" in the pipeline`, {
        hint: `Consumers: ${all.map((c) => c.name).join(', ')}.`,
      }),
    )
  }
  return withBus(options, (bus) =>
    replayConsumer(bus, {
      consumer,
      ...(options.since === undefined ? {} : { since: options.since }),
      ...(options.from === undefined ? {} : { from: options.from }),
      ...(options.to === undefined ? {} : { to: options.to }),
      ...(options.dryRun === undefined ? {} : { dryRun: options.dryRun }),
      ...(options.rebuild === undefined ? {} : { rebuild: options.rebuild }),
      ...(options.fresh === undefined ? {} : { fresh: options.fresh }),
      ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    }),
  )
}

/** `pipeline replay --cancel`: abandons the consumer's unfinished replay or rebuild (its shadow state too); live state is untouched. */
export function replayCancel(options: RepairConnection & PipelineHandlers & { consumer: string }): Promise<{ readonly cancelled: string | null; readonly droppedShadowKeys: number }> {
  return withBus(options, (bus) => cancelReplay(bus, options.consumer))
}
