import type { Participant } from '../events/compat/index.js'
import { pipelineConsumers } from './index.js'
import { EVENT } from './types.js'

/** Who produces and consumes events in the built-in pipeline, from its consumer definitions. */
export function pipelineParticipants(): Participant[] {
  // The intake (the publish command and the inbox watcher) publishes pipeline.file.received.
  // pipelineConsumers reads nothing from disk until a handler runs, so outDir is never used here.
  return [{ name: 'intake', emits: [EVENT.received] }, ...pipelineConsumers({ outDir: '.pipeline/out' })]
}
