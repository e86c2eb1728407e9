import { defineConsumer, type ConsumerDefinition } from '../../bus/index.js'
import { filePartitionKey } from '../intake.js'
import { enrichFile } from '../enrich.js'
import type { ReferenceData } from '../reference.js'
import { resolveFile } from '../resolve.js'
import { EVENT, type EnrichedPayload, type ValidatedPayload } from '../types.js'
import { STAGE } from './names.js'

/** enrich: validated -> enriched (fund name, manager, domicile, asset class joined by ISIN). */
export function enrichConsumer(reference: () => ReferenceData): ConsumerDefinition {
  return defineConsumer({
    name: STAGE.enrich,
    subscribes: [EVENT.validated],
    emits: [EVENT.enriched],
    description: 'Joins fund reference data to each record by ISIN; an unknown fund is a warning.',
    handle(event, ctx) {
      const validated = event.payload as ValidatedPayload
      ctx.emit({ type: EVENT.enriched, key: event.correlationId, partitionKey: filePartitionKey(validated), payload: enrichFile(validated, reference()) })
    },
  })
}

/** resolve: enriched -> resolved (CUSIP, SEDOL, FIGI, ticker by ISIN; unresolved counted). */
export function resolveConsumer(reference: () => ReferenceData): ConsumerDefinition {
  return defineConsumer({
    name: STAGE.resolve,
    subscribes: [EVENT.enriched],
    emits: [EVENT.resolved],
    description: 'Resolves each instrument ISIN to CUSIP, SEDOL, FIGI and ticker from the identifier table.',
    handle(event, ctx) {
      const enriched = event.payload as EnrichedPayload
      ctx.emit({ type: EVENT.resolved, key: event.correlationId, partitionKey: filePartitionKey(enriched), payload: resolveFile(enriched, reference()) })
    },
  })
}
