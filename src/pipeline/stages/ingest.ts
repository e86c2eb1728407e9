import { defineConsumer, type ConsumerDefinition } from '../../bus/index.js'
import { ingestFile } from '../ingest.js'
import { contentHash, filePartitionKey } from '../intake.js'
import type { MappingProfile } from '../profiles.js'
import { EVENT, type DuplicatePayload, type ReceivedPayload, type RejectedPayload } from '../types.js'
import { seenKey, STAGE } from './names.js'

/**
 * ingest: received -> ingested | duplicate | rejected(stage ingest). Dedup by content hash,
 * for every file ingest has seen, rejected ones included: the same bytes sent again would be
 * rejected again, so they are reported as a duplicate of the first journey.
 */
export function ingestConsumer(profiles: () => readonly MappingProfile[]): ConsumerDefinition {
  return defineConsumer({
    // Relative CPU per file, for load --workers: parses every file (CSV, JSON or XML), hashes it and measures its events: the heaviest handler.
    cost: 4,
    name: STAGE.ingest,
    subscribes: [EVENT.received],
    emits: [EVENT.ingested, EVENT.duplicate, EVENT.rejected],
    description: 'Decodes and parses a received file, tells its kind and provider, and drops copies of files already seen.',
    async handle(event, ctx) {
      const received = event.payload as ReceivedPayload
      const hash = contentHash(Buffer.from(received.contentBase64, 'base64'))
      const key = event.correlationId
      // Parsed before the copy check: what it finds names the partition of everything the file leads to.
      const result = ingestFile(received, profiles())
      const partitionKey = filePartitionKey(result.ok ? result.payload : result)
      const first = await ctx.state.get(seenKey(hash))
      if (first !== null && first !== event.correlationId) {
        const payload: DuplicatePayload = { fileName: received.fileName, contentHash: hash, firstCorrelationId: first }
        ctx.emit({ type: EVENT.duplicate, key, partitionKey, payload })
        return
      }
      ctx.state.set(seenKey(hash), event.correlationId)
      if (result.ok) {
        ctx.emit({ type: EVENT.ingested, key, partitionKey, payload: result.payload })
      } else {
        const payload: RejectedPayload = { fileName: received.fileName, contentHash: hash, stage: 'ingest', reasons: result.reasons }
        ctx.emit({ type: EVENT.rejected, key, partitionKey, payload })
      }
    },
  })
}
