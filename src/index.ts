/** eventspine: the runtime the `pipeline` CLI drives, as a library for your own consumers. */
export * from './bus/index.js'
export { ERROR_CODES, EventspineError, hasCode, type ErrorCode } from './errors.js'
export type { EventEnvelope } from './events/envelope.js'
export type { CorrelationId, EventId } from './events/ids.js'
export { ContractErrorCode, defaultContractsDir, loadContracts } from './events/contracts.js'
export type { ContractRegistry, Upcaster } from './events/contracts.js'
export { defineConfig, type ConsumerEnv, type ConsumerFactory, type ConsumerPreset, type PipelineConfig } from './project/define.js'
export { fundPipeline, type FundPipelineOptions } from './project/fund.js'
export {
  writeOutbox,
  createRelay,
  migrateOutbox,
  OUTBOX_TABLE,
  OUTBOX_DEAD_TABLE,
  OUTBOX_CHANNEL,
  OUTBOX_COLUMNS,
  type Relay,
  type RelayFigures,
  type RelayOptions,
  type WriteOutboxOptions,
  type Queryable,
} from './outbox/index.js'
export { writeReferenceChange, seedReference, type ReferenceChange } from './pipeline/reference-db.js'
