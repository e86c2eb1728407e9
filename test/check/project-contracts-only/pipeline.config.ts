import type { PipelineConfig } from '../../../src/testing.js'

/** A project whose config only names its contracts: the consumers come from --consumer. */
const config: PipelineConfig = { consumers: [], contracts: '../contracts' }
export default config
