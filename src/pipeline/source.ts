import type { ConsumerDefinition } from '../bus/types.js'
import { defaultContractsDir, loadContracts, type ContractRegistry } from '../events/index.js'
import { pipelineConsumers } from './index.js'
import type { ReferenceData } from './reference.js'
import { EVENT } from './types.js'

/** What a host knows when it builds its consumers: where files go, "now", and the Redis it runs on. */
export interface HostEnv {
  /** Where deliver writes (`--out`, default `<project>/.pipeline/out`). */
  readonly outDir: string
  readonly syncOutput?: boolean
  /** "Now" for the not-in-the-future rule (tests and load pin it). */
  readonly clock?: () => Date
  /** Reference data given on the command line (`--reference`, load's generated day): wins over the config's. */
  readonly referenceDir?: string
  /** Reference data the host keeps current (`--reference-db`: the Postgres reference schema): wins over referenceDir. */
  readonly reference?: () => ReferenceData
  readonly namespace: string
  readonly redisUrl: string
  /** A folder for consumers' own files outside Redis (a factory's `env.tmpDir`). */
  readonly tmpDir: string
}

/**
 * The pipeline a command runs: the built-in one, or a project's (`pipeline.config.ts`, built by
 * src/project/). Every host (up, worker, load, replay, dlq replay, status, trace, schema) asks it
 * for consumers, so a team's own consumer runs wherever ours do.
 */
export interface PipelineSource {
  /** The config file it came from; undefined for the built-in pipeline. */
  readonly file: string | undefined
  /** Builds fresh consumer definitions for one host. */
  consumers(host: HostEnv): ConsumerDefinition[]
  /** The project's own contract folders (the shipped ones always come too). */
  readonly contractsDirs: readonly string[]
  /** The shipped contracts and the project's, compiled once (a project compiles them when it loads, to check itself). */
  contracts(): ContractRegistry
  /** Event types that end a file's journey, whatever else listens to them (trace, publish --wait). */
  readonly endings: readonly string[]
  /** Types the host itself publishes (the inbox and `publish`): produced, though no consumer emits them. */
  readonly intakeEmits: readonly string[]
  /** The config's outbox (`managed` or a postgres:// URL), relayed by `up` and `worker`; `--outbox` wins. */
  readonly outbox?: string
  /** Equal in two versions of a source when the consumer's code is the same: a reload leaves it running. */
  fingerprint(name: string): string
}

/** The fund pipeline's journey ends: a file is delivered, rejected, or found a duplicate. */
export const FUND_ENDINGS: readonly string[] = [EVENT.delivered, EVENT.rejected, EVENT.duplicate]

/** A new version of the pipeline's code, or why it could not be loaded. */
export type SourceUpdate = { readonly source: PipelineSource } | { readonly error: unknown }

/** New versions of a source as its files change (`up` reloading a project). */
export interface SourceUpdates {
  /** Calls `listener` with each update; returns the unsubscribe function. */
  subscribe(listener: (update: SourceUpdate) => void): () => void
}

/** With no project config: the seven stages and two projections, as every command ran before configs. */
export function builtinSource(): PipelineSource {
  return {
    file: undefined,
    consumers: (host) =>
      pipelineConsumers({
        outDir: host.outDir,
        ...(host.syncOutput === undefined ? {} : { syncOutput: host.syncOutput }),
        ...(host.clock ? { clock: host.clock } : {}),
        ...(host.referenceDir === undefined ? {} : { referenceDir: host.referenceDir }),
        ...(host.reference === undefined ? {} : { reference: host.reference }),
      }),
    contractsDirs: [],
    contracts: shippedContracts,
    endings: FUND_ENDINGS,
    intakeEmits: [EVENT.received],
    fingerprint: (name) => `builtin:${name}`,
  }
}

let shipped: ContractRegistry | undefined

/** The shipped contracts, compiled once per process: hosts only read them. */
export function shippedContracts(): ContractRegistry {
  return (shipped ??= loadContracts(defaultContractsDir()))
}

/** A host env for listing consumers (topology, catalog): nothing is read or written through it. */
export function listingHost(): HostEnv {
  return { outDir: '.pipeline/out', namespace: 'pipeline', redisUrl: 'redis://127.0.0.1:6379', tmpDir: '.pipeline/tmp' }
}
