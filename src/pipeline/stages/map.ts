import { defineConsumer, type ConsumerDefinition } from '../../bus/index.js'
import { filePartitionKey } from '../intake.js'
import { mapFile } from '../mapping.js'
import { findProfile, type MappingProfile } from '../profiles.js'
import { EVENT, type IngestedPayload, type RejectedPayload } from '../types.js'
import { STAGE } from './names.js'

/** map: ingested -> mapped (canonical records), or rejected(stage map) if the profile is gone. */
export function mapConsumer(profiles: () => readonly MappingProfile[]): ConsumerDefinition {
  return defineConsumer({
    // Relative CPU per file, for load --workers: normalises every cell.
    cost: 2,
    name: STAGE.map,
    subscribes: [EVENT.ingested],
    emits: [EVENT.mapped, EVENT.rejected],
    description: "Maps a provider's columns, dates and numbers to canonical records through its mapping profile.",
    handle(event, ctx) {
      const ingested = event.payload as IngestedPayload
      const key = event.correlationId
      const profile = findProfile(ingested.provider, profiles())
      if (profile === null) {
        // Profiles are data: one removed between ingest and map must not crash-loop the stage.
        const payload: RejectedPayload = {
          fileName: ingested.fileName,
          contentHash: ingested.contentHash,
          stage: 'map',
          kind: ingested.kind,
          reasons: [{ rule: 'unknown-provider', value: ingested.provider, message: `no mapping profile for provider "${ingested.provider}"` }],
        }
        ctx.emit({ type: EVENT.rejected, key, partitionKey: filePartitionKey(ingested), payload })
        return
      }
      ctx.emit({ type: EVENT.mapped, key, partitionKey: filePartitionKey(ingested), payload: mapFile(ingested, profile) })
    },
  })
}
