import { defineConsumer, type ConsumerDefinition, type StateEntry } from '../../bus/index.js'
import { applyJourney, FILE_NAMES_HASH, fileNameField, journeyKey, NAV_LATEST_HASH, navCandidates, newerNav, type FileJourney, type LatestNav } from '../projections.js'
import { EVENT, type ValidatedPayload } from '../types.js'
import { STAGE } from './names.js'

/** nav-latest: latest NAV per share class ISIN, from validated NAV files. Replay-safe. */
export function navLatestConsumer(): ConsumerDefinition {
  return defineConsumer({
    name: STAGE.navLatest,
    subscribes: [EVENT.validated],
    emits: [],
    // One file carries many ISINs: two files touching one ISIN in the same wave are kept
    // apart by the runtime's serializable waves (conflicts are per hash field).
    description: 'Read model: the latest NAV, currency and NAV date of each share class ISIN.',
    readModel: navLatestRows,
    async handle(event, ctx) {
      const candidates = [...navCandidates(event.payload as ValidatedPayload, event.correlationId)]
      // Concurrent reads: one round trip's wait for the whole file, not one per ISIN.
      const raws = await Promise.all(candidates.map(([isin]) => ctx.state.hget(NAV_LATEST_HASH, isin)))
      candidates.forEach(([isin, candidate], i) => {
        const raw = raws[i] ?? null
        if (newerNav(raw === null ? null : (JSON.parse(raw) as LatestNav), candidate)) {
          ctx.state.hset(NAV_LATEST_HASH, isin, JSON.stringify(candidate))
        }
      })
    },
  })
}

/**
 * nav-latest as rows by ISIN (`pipeline reconcile --state nav-latest:<another version>`): the
 * NAV, currency and NAV date, so a new version may keep them in another shape and still compare.
 */
export function navLatestRows(entry: StateEntry): { key: string; value: string } | undefined {
  if (entry.name !== NAV_LATEST_HASH || entry.field === undefined) return undefined
  const { nav, currency, navDate } = JSON.parse(entry.value) as LatestNav
  return { key: entry.field, value: `${nav} ${currency} ${navDate}` }
}

/** file-journey: each file's status and steps, from every pipeline.file.* event. */
export function fileJourneyConsumer(): ConsumerDefinition {
  return defineConsumer({
    // Relative CPU per file, for load --workers: it reads every event of every file.
    cost: 3,
    name: STAGE.fileJourney,
    subscribes: Object.values(EVENT),
    emits: [],
    // The state (file:<correlationId>) is per file, but a received event is keyed by content
    // hash: ordering by file keeps a received and an ingested of one file out of the same wave
    // (both would read the same old journey and the second write would drop the first's step).
    orderingKey: (event) => event.correlationId,
    description: "Read model: each file's status, last event and the history of its journey, by correlation id.",
    async handle(event, ctx) {
      const key = journeyKey(event.correlationId)
      const prev = await ctx.state.getJson<FileJourney>(key)
      const next = applyJourney(prev, event)
      if (next === null) return
      ctx.state.setJson(key, next)
      // The console's search index: written once, when the file's name is first known.
      if (next.fileName !== '' && prev?.fileName !== next.fileName) ctx.state.hset(FILE_NAMES_HASH, fileNameField(next.fileName, event.correlationId), event.correlationId)
    },
  })
}
