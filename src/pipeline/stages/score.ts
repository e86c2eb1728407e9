import { defineConsumer, type ConsumerDefinition } from '../../bus/index.js'
import { filePartitionKey } from '../intake.js'
import type { ReferenceData } from '../reference.js'
import { scoreFile, scoreOptionsFor, type LastNav } from '../score.js'
import { EVENT, type ValidatedPayload } from '../types.js'
import { LAST_NAV_HASH, STAGE } from './names.js'

/**
 * score: validated -> scored; keeps the last NAV per ISIN (hash `last-nav`) to flag moves over
 * the fund type's tolerance, the fund type coming from the reference data.
 */
export function scoreConsumer(reference: () => ReferenceData): ConsumerDefinition {
  return defineConsumer({
    name: STAGE.score,
    subscribes: [EVENT.validated],
    emits: [EVENT.scored],
    description: 'Scores a file 0-100 from completeness, validity, timeliness and NAV consistency.',
    // Which file is "last" for an ISIN depends on files (keys) arriving in NAV-date order.
    dependsOnCrossKeyOrder: true,
    // Files share last-NAV entries (hash fields per ISIN); the runtime's serializable waves
    // keep two files' read-compare-write of one ISIN apart, so no global ordering key is needed.
    async handle(event, ctx) {
      const file = event.payload as ValidatedPayload
      const lastNavs = new Map<string, LastNav>()
      if (file.kind === 'nav') {
        const isins = new Set(file.records.map((r) => r.fields.isin).filter((i): i is string => typeof i === 'string'))
        // Concurrent reads: one round trip's wait for the whole file, not one per ISIN.
        const raws = await Promise.all([...isins].map((isin) => ctx.state.hget(LAST_NAV_HASH, isin)))
        ;[...isins].forEach((isin, i) => {
          const raw = raws[i]
          if (raw !== null && raw !== undefined) lastNavs.set(isin, JSON.parse(raw) as LastNav)
        })
      }
      const result = scoreFile(file, lastNavs, scoreOptionsFor(reference()))
      for (const [isin, last] of result.updates) ctx.state.hset(LAST_NAV_HASH, isin, JSON.stringify(last))
      ctx.emit({ type: EVENT.scored, key: event.correlationId, partitionKey: filePartitionKey(file), payload: result.payload })
    },
  })
}
