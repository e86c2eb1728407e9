import type { Participant } from '../events/compat/index.js'
import { builtinSource, listingHost, type PipelineSource } from './source.js'

/** Who produces and consumes events in the pipeline (a project's, else the built-in one), from its consumer definitions. */
export function pipelineParticipants(source: PipelineSource = builtinSource()): Participant[] {
  // The intake (the publish command and the inbox watcher) publishes what the source says it does.
  // Listing consumers reads nothing from disk until a handler runs, so the host's folders are never used here.
  return [...(source.intakeEmits.length > 0 ? [{ name: 'intake', emits: [...source.intakeEmits] }] : []), ...source.consumers(listingHost())]
}
