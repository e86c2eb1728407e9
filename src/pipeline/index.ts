import type { ConsumerDefinition } from '../bus/index.js'
import { defaultProfilesDir, defaultReferenceDir } from './paths.js'
import { loadProfiles, type MappingProfile } from './profiles.js'
import { loadReferenceData, type ReferenceData } from './reference.js'
import { deliverConsumer } from './stages/deliver.js'
import { enrichConsumer, resolveConsumer } from './stages/enrich.js'
import { ingestConsumer } from './stages/ingest.js'
import { mapConsumer } from './stages/map.js'
import { fileJourneyConsumer, navLatestConsumer } from './stages/projections.js'
import { scoreConsumer } from './stages/score.js'
import { validateConsumer } from './stages/validate.js'

export interface PipelineOptions {
  /** Where deliver writes `<YYYY-MM-DD>/<kind>/<correlationId>.json` (e.g. `.pipeline/out`). */
  readonly outDir: string
  /** Flush each output file to disk before its rename (`--durability strict`). Default false. */
  readonly syncOutput?: boolean
  /** Folder with `funds.csv` and `identifiers.csv`. Default: the shipped `fixtures/reference`. */
  readonly referenceDir?: string
  /** Reference data from elsewhere (the Postgres reference schema, kept current): wins over referenceDir. */
  readonly reference?: () => ReferenceData
  /** Folder of mapping profiles (`*.json`). Default: the shipped `fixtures/mapping-profiles`. */
  readonly profilesDir?: string
  /** "Now" for the not-in-the-future date rule. Default: the system clock. */
  readonly clock?: () => Date
  /** Holding weights may be off 100% by this many percentage points. Default 0.5. */
  readonly weightTolerance?: number
}

function once<T>(load: () => T): () => T {
  let value: T | undefined
  let loaded = false
  return () => {
    if (!loaded) {
      value = load()
      loaded = true
    }
    return value as T
  }
}

/**
 * Every consumer of the fund-data pipeline: the seven stages and the two projections, in
 * topology order. Reference data and mapping profiles are read on first use, so listing the
 * consumers (catalog, AsyncAPI export) touches no files.
 */
export function pipelineConsumers(options: PipelineOptions): ConsumerDefinition[] {
  const profiles = once((): readonly MappingProfile[] => loadProfiles(options.profilesDir ?? defaultProfilesDir()))
  const reference = options.reference ?? once((): ReferenceData => loadReferenceData(options.referenceDir ?? defaultReferenceDir()))
  return [
    ingestConsumer(profiles),
    mapConsumer(profiles),
    validateConsumer({ clock: options.clock ?? (() => new Date()), ...(options.weightTolerance === undefined ? {} : { weightTolerance: options.weightTolerance }) }),
    enrichConsumer(reference),
    resolveConsumer(reference),
    scoreConsumer(reference),
    deliverConsumer({ outDir: options.outDir, syncOutput: options.syncOutput ?? false }),
    navLatestConsumer(),
    fileJourneyConsumer(),
  ]
}

export { STAGE, LAST_NAV_HASH, joinKey, seenKey, type StageName } from './stages/names.js'
export { EVENT, FILE_KINDS } from './types.js'
export type * from './types.js'
export { contentHash, receivedEvent, type ReceivedOptions } from './intake.js'
export { MAX_FILE_BYTES, MAX_ROW_BYTES, MAX_ROWS } from './parse.js'
export { FATAL_RULES, WARNING_RULES } from './validate.js'
export {
  applyJourney,
  journeyKey,
  NAV_LATEST_HASH,
  readFileJourney,
  readLatestNav,
  type FileJourney,
  type JourneyStatus,
  type LatestNav,
  type StateReader,
} from './projections.js'
export { newChainMemory, runChain, type ChainMemory, type ChainOptions, type ChainOutcome } from './chain.js'
export { loadProfiles, type MappingProfile } from './profiles.js'
export { loadReferenceData, type ReferenceData } from './reference.js'
export { defaultProfilesDir, defaultReferenceDir } from './paths.js'
export { FIELD_SPECS, type FieldSpec } from './fields.js'
export { isValidIsin, isinCheckDigit } from './rules/isin.js'
export { isValidLei, leiCheckDigits } from './rules/lei.js'
export { isActiveCurrency } from './rules/currency.js'
