import { buildOutput, joinStep, type DeliveryOutput } from './deliver.js'
import { enrichFile } from './enrich.js'
import { ingestFile } from './ingest.js'
import { contentHash, receivedEvent } from './intake.js'
import { mapFile } from './mapping.js'
import { findProfile, type MappingProfile } from './profiles.js'
import type { ReferenceData } from './reference.js'
import { resolveFile } from './resolve.js'
import { scoreFile, scoreOptionsFor, type LastNav } from './score.js'
import { EVENT, type FileKind, type Issue, type ResolvedPayload, type ScoredPayload, type ValidatedPayload } from './types.js'
import { validateFile } from './validate.js'

/** Memory the stateful stages keep between files (ingest's seen hashes, score's last NAVs). */
export interface ChainMemory {
  readonly seen: Map<string, string>
  readonly lastNavs: Map<string, LastNav>
}

export function newChainMemory(): ChainMemory {
  return { seen: new Map(), lastNavs: new Map() }
}

export interface ChainOptions {
  readonly profiles: readonly MappingProfile[]
  readonly reference: ReferenceData
  readonly now: Date
  readonly receivedAt: Date
  readonly correlationId: string
  readonly memory: ChainMemory
  readonly weightTolerance?: number
}

export type ChainOutcome =
  | { readonly outcome: 'duplicate'; readonly firstCorrelationId: string }
  | { readonly outcome: 'rejected'; readonly stage: string; readonly kind?: FileKind; readonly reasons: readonly Issue[] }
  | {
      readonly outcome: 'delivered'
      readonly validated: ValidatedPayload
      readonly resolved: ResolvedPayload
      readonly scored: ScoredPayload
      readonly output: DeliveryOutput
    }

/**
 * One file through every stage's pure function, in topology order, with no bus: what the
 * consumers would do, for tests, fixtures checks and the property harness's oracle.
 */
export function runChain(fileName: string, content: Uint8Array, options: ChainOptions): ChainOutcome {
  const received = receivedEvent(fileName, content, { receivedAt: options.receivedAt }).payload
  const hash = contentHash(content)
  const first = options.memory.seen.get(hash)
  if (first !== undefined && first !== options.correlationId) return { outcome: 'duplicate', firstCorrelationId: first }
  options.memory.seen.set(hash, options.correlationId)
  const ingested = ingestFile(received, options.profiles)
  if (!ingested.ok) return { outcome: 'rejected', stage: 'ingest', reasons: ingested.reasons }
  const profile = findProfile(ingested.payload.provider, options.profiles)
  if (profile === null) throw new Error(`ingest chose provider ${ingested.payload.provider}, which map cannot find`)
  const validated = validateFile(mapFile(ingested.payload, profile), {
    now: options.now,
    ...(options.weightTolerance === undefined ? {} : { weightTolerance: options.weightTolerance }),
  })
  if (!validated.ok) {
    const { stage, reasons, kind } = validated.payload
    return { outcome: 'rejected', stage, reasons, ...(kind === undefined ? {} : { kind }) }
  }
  const resolved = resolveFile(enrichFile(validated.payload, options.reference), options.reference)
  const scoredResult = scoreFile(validated.payload, options.memory.lastNavs, scoreOptionsFor(options.reference))
  for (const [isin, last] of scoredResult.updates) options.memory.lastNavs.set(isin, last)
  const half = joinStep(null, EVENT.resolved, resolved)
  const step = joinStep(half.ready ? null : half.state, EVENT.scored, scoredResult.payload)
  if (!step.ready) throw new Error('join did not complete with both halves')
  return {
    outcome: 'delivered',
    validated: validated.payload,
    resolved,
    scored: scoredResult.payload,
    output: buildOutput(options.correlationId, step.resolved, step.scored),
  }
}
