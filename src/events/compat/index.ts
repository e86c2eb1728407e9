// Governance of event contracts: catalog, compatibility check against a baseline, AsyncAPI export.
export { toAsyncApi, envelopeHeaders, type AsyncApiOptions } from './asyncapi.js'
export { readBaseline, schemasOf, type Baseline, type SchemaSet } from './baseline.js'
export { buildCatalog, formatCatalog, type Catalog, type CatalogType, type CatalogVersion, type Participant } from './catalog.js'
export { checkContracts, formatCompatibilityReport, type CompatibilityOptions, type CompatibilityProblem, type CompatibilityReport, type RequiredLevel, type VersionCheck, type VersionsInUse } from './check.js'
export { combine, meets, type Compatibility, type SchemaChange } from './compatibility.js'
export { diffSchemas } from './schema-diff.js'
export { loadUpcasterModule, type RegisterUpcasters } from './upcaster-module.js'
export { findContract, loadRegistry, withShipped, type RegistryOptions } from './load.js'
