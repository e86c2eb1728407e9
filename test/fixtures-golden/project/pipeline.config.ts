import type { PipelineConfig } from '../../../src/testing.js'
import { receipts } from './consumers/receipts.js'

/** A small project for the `pipeline test` end-to-end test: one consumer of its own, its contracts. */
const config: PipelineConfig = {
  consumers: [receipts],
  contracts: '../../check/contracts',
}
export default config
