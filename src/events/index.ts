// The events layer's public face: envelope codec, ids, contracts. Other layers import from here.
export { MAX_EVENT_BYTES, decodeEvent, encodeEvent } from './envelope.js'
export type { EnvelopeField, EventEnvelope } from './envelope.js'
export { deriveEventId, eventIdTime, isEventId, newCorrelationId, newEventId } from './ids.js'
export type { CorrelationId, EventId } from './ids.js'
export { ContractErrorCode, defaultContractsDir, loadContracts } from './contracts.js'
export type { Contract, ContractRegistry, ContractViolation, Upcaster } from './contracts.js'
export {
  buildCatalog,
  checkContracts,
  diffSchemas,
  readBaseline,
  toAsyncApi,
  type Catalog,
  type CompatibilityReport,
  type Compatibility,
  type SchemaChange,
} from './compat/index.js'
