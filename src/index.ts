/** eventspine: the runtime the `pipeline` CLI drives, as a library for your own consumers. */
export * from './bus/index.js'
export { ERROR_CODES, EventspineError, hasCode, type ErrorCode } from './errors.js'
export type { EventEnvelope } from './events/envelope.js'
export type { CorrelationId, EventId } from './events/ids.js'
export { ContractErrorCode, defaultContractsDir, loadContracts } from './events/contracts.js'
export type { ContractRegistry, Upcaster } from './events/contracts.js'
export { defineConfig, type ConsumerEnv, type ConsumerFactory, type ConsumerPreset, type PipelineConfig } from './project/define.js'
export { fundPipeline, type FundPipelineOptions } from './project/fund.js'
