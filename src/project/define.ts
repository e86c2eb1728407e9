import type { ConsumerDefinition } from '../bus/types.js'
import type { CheckTarget } from '../check/check.js'
import type { InputModel } from '../check/inputs.js'
import type { CheckEnv } from '../check/types.js'
import type { HostEnv } from '../pipeline/source.js'

/** What a consumer factory gets: a folder of its own, and the namespace and Redis it runs on. */
export type ConsumerEnv = CheckEnv

/** A consumer that keeps state outside Redis is given as a factory: each host (and each fuzz run) makes a fresh one. */
export type ConsumerFactory = (env: ConsumerEnv) => ConsumerDefinition

/**
 * A set of consumers shipped ready-made, such as the fund pipeline (`fundPipeline()`). A config
 * uses it whole, adds its own consumers beside it, replaces one of its stages by listing a
 * consumer of the same name, or leaves stages out (`without`).
 */
export interface ConsumerPreset {
  readonly kind: 'eventspine.preset'
  /** For messages: "the fund pipeline". */
  readonly title: string
  /** Its consumers' names, in order, after `without`. */
  readonly names: readonly string[]
  /** Event types that end a file's journey. */
  readonly endings: readonly string[]
  /** Equal for two presets built with the same options (a reload keeps their stages running). */
  readonly fingerprint: string
  /** Types the host publishes for it (the inbox's `pipeline.file.received`). */
  readonly intakeEmits: readonly string[]
  /** Its consumers for one host; `configDir` resolves the preset's relative folders. */
  build(host: HostEnv, configDir: string): ConsumerDefinition[]
  /** Fuzz targets for the named stages, with realistic inputs of their own. */
  fuzzTargets(names: readonly string[], configDir: string): Promise<CheckTarget[]>
}

export type ConsumerEntry = ConsumerDefinition | ConsumerFactory | ConsumerPreset

/** What `pipeline.config.{ts,mjs,js}` exports by default: the pipeline every command runs. */
export interface PipelineConfig {
  /**
   * The pipeline's consumers: definitions (`defineConsumer`), factories `(env) => definition`,
   * and presets (`fundPipeline()`). A consumer named like a preset's stage replaces that stage.
   */
  readonly consumers: readonly ConsumerEntry[]
  /** Folder(s) of the project's contracts (`<type>/v<N>.schema.json`), relative to the config file. */
  readonly contracts?: string | readonly string[]
  /** Input models for `pipeline fuzz`, per consumer name, where the contracts alone give unrealistic payloads. */
  readonly inputs?: Readonly<Record<string, InputModel>>
  /** The transactional outbox `up` and `worker` relay: `managed` or a postgres:// URL (`--outbox` wins). */
  readonly outbox?: string
}

/**
 * Declares the project's pipeline, typed. `pipeline up`, `worker`, `load`, `replay`, `dlq replay`,
 * `trace`, `status`, `schema` and `fuzz` all run what it lists.
 *
 * ```ts
 * import { defineConfig, fundPipeline } from 'eventspine'
 * import { audit } from './consumers/audit.js'
 * export default defineConfig({ consumers: [fundPipeline(), audit], contracts: './contracts' })
 * ```
 */
export function defineConfig(config: PipelineConfig): PipelineConfig {
  return config
}

export function isPreset(entry: unknown): entry is ConsumerPreset {
  return entry !== null && typeof entry === 'object' && (entry as { kind?: unknown }).kind === 'eventspine.preset'
}
