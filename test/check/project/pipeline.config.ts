import type { PipelineConfig } from '../../../src/testing.js'
import { crossKeyOrder } from '../broken/cross-key-order.js'
import { ledger } from '../good-ledger.js'

/** A user's project as `pipeline fuzz` finds it: their consumers and their contracts folder. */
const config: PipelineConfig = {
  consumers: [ledger, crossKeyOrder],
  contracts: '../contracts',
}
export default config
