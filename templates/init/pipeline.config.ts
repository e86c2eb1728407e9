import { defineConfig, fundPipeline } from 'eventspine'
import { audit } from './consumers/audit.js'

// The pipeline every `pipeline` command runs: the built-in fund pipeline (ingest, map, validate,
// enrich, resolve, score, deliver and two projections), and our own consumers beside it.
export default defineConfig({
  consumers: [fundPipeline(), audit],
  // Contracts of the event types our consumers emit: <type>/v<N>.schema.json.
  contracts: './contracts',
})
