import { EventspineError } from '../../errors.js'

/** Consumer names of the fund pipeline: each names a consumer group, its state and its dead letters. */
export const STAGE = {
  ingest: 'ingest',
  map: 'map',
  validate: 'validate',
  enrich: 'enrich',
  resolve: 'resolve',
  score: 'score',
  deliver: 'deliver',
  navLatest: 'nav-latest',
  fileJourney: 'file-journey',
} as const

export type StageName = (typeof STAGE)[keyof typeof STAGE]

/** Every stage, in pipeline order (here, not in host/, so `pipeline worker --help` can list them without loading the runtime). */
export const STAGE_NAMES: readonly string[] = Object.values(STAGE)

/** One `--stage` value, checked against {@link STAGE_NAMES} before anything starts. */
export function parseStageName(name: string): string {
  if (STAGE_NAMES.includes(name)) return name
  throw new EventspineError('E_UNKNOWN_STAGE', `unknown stage "${name}"`, { hint: `Valid stages: ${STAGE_NAMES.join(', ')}.` })
}

/** State name under which ingest remembers a content hash (value: the first file's correlation id). */
export function seenKey(contentHash: string): string {
  return `seen:${contentHash}`
}

/** State name under which deliver keeps the first half of a file's join. */
export function joinKey(correlationId: string): string {
  return `join:${correlationId}`
}

/** Hash in the score consumer's state: field = ISIN, value = JSON LastNav. */
export const LAST_NAV_HASH = 'last-nav'
