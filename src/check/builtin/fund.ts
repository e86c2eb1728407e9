import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { faker } from '@faker-js/faker'
import fc from 'fast-check'
import type { ConsumerDefinition } from '../../bus/types.js'
import { buildOutput, deliveredPayload } from '../../pipeline/deliver.js'
import { enrichFile } from '../../pipeline/enrich.js'
import { ingestFile } from '../../pipeline/ingest.js'
import { contentHash, receivedEvent } from '../../pipeline/intake.js'
import { mapFile } from '../../pipeline/mapping.js'
import { packageRoot } from '../../pipeline/paths.js'
import { findProfile, type MappingProfile } from '../../pipeline/profiles.js'
import type { ReferenceData } from '../../pipeline/reference.js'
import { resolveFile } from '../../pipeline/resolve.js'
import { scoreFile, scoreOptionsFor } from '../../pipeline/score.js'
import { EVENT } from '../../pipeline/types.js'
import { validateFile } from '../../pipeline/validate.js'
import { CORRELATION_POOL, type DraftEvent, type InputModel } from '../inputs.js'

/** The harness's fixed "now" and arrival time, so validate and score see the same day every run. */
export const CHECK_NOW = new Date('2026-11-25T18:00:00.000Z')
const RECEIVED_AT = new Date('2026-11-25T08:00:00.000Z')
const NAV_DATES = ['2026-11-20', '2026-11-21', '2026-11-24', '2026-11-25']

interface FundFile {
  readonly name: string
  readonly content: Buffer
}

export interface FundWorld {
  readonly profiles: readonly MappingProfile[]
  readonly reference: ReferenceData
}

let fixtureFiles: FundFile[] | undefined

/** The shipped provider files, good and faulty (the CSV layouts, JSON, the fund standards, encodings, faults). */
function fixtures(): FundFile[] {
  if (fixtureFiles) return fixtureFiles
  const root = join(packageRoot(), 'fixtures')
  fixtureFiles = ['inbox', 'faulty'].flatMap((dir) =>
    readdirSync(join(root, dir))
      .sort()
      .map((name) => ({ name, content: readFileSync(join(root, dir, name)) })),
  )
  return fixtureFiles
}

/** A Northwind NAV file written by faker from the reference funds: real ISINs and LEIs, made-up prices. */
function fakerNavFile(seed: number, world: FundWorld): FundFile {
  faker.seed(seed)
  const funds = [...world.reference.funds.entries()]
  const picked = faker.helpers.arrayElements(funds, { min: 1, max: 4 })
  const date = faker.helpers.arrayElement(NAV_DATES)
  const rows = picked.map(([isin, f]) => {
    const currency = faker.number.int(12) === 0 ? 'EUX' : f.currency
    const nav = faker.number.float({ min: 5, max: 250, fractionDigits: 4 }).toFixed(4)
    const tna = faker.number.float({ min: 1e7, max: 5e9, fractionDigits: 2 }).toFixed(2)
    return [isin, f.fundName.replace(/,/g, ' '), date, nav, currency, f.lei, tna, String(faker.number.int({ min: 1e5, max: 9e7 })), 'NW-FA'].join(',')
  })
  const header = 'ISIN,Share Class,NAV Date,NAV,Currency,LEI,Total Net Assets,Shares Outstanding,Source System'
  return { name: `northwind-nav-${date}-${seed}.csv`, content: Buffer.from(`${header}\n${rows.join('\n')}\n`) }
}

const bundles = new Map<string, DraftEvent[]>()

/**
 * Every event one file causes through the pure stage functions, in causal order: received,
 * then ingested/mapped/validated/enriched/resolved/scored/delivered, or a rejection, or (for a
 * second copy) duplicate. The cheapest realistic payloads: exactly what the stages emit.
 */
export function fileEvents(file: FundFile, correlationId: string, copy: boolean, world: FundWorld): DraftEvent[] {
  const memo = `${file.name}|${contentHash(file.content)}|${correlationId}|${copy}`
  const cached = bundles.get(memo)
  if (cached) return cached
  const out: DraftEvent[] = []
  const add = (type: string, payload: unknown, key = correlationId) => out.push({ type, payload, key, correlationId })
  const received = receivedEvent(file.name, file.content, { receivedAt: RECEIVED_AT })
  add(received.type, received.payload, received.key)
  const hash = contentHash(file.content)
  if (copy) add(EVENT.duplicate, { fileName: file.name, contentHash: hash, firstCorrelationId: 'corr-0' })
  else {
    const ingested = ingestFile(received.payload, world.profiles)
    const profile = ingested.ok ? findProfile(ingested.payload.provider, world.profiles) : null
    if (!ingested.ok || profile === null) add(EVENT.rejected, { fileName: file.name, contentHash: hash, stage: 'ingest', reasons: ingested.ok ? [] : ingested.reasons })
    else {
      add(EVENT.ingested, ingested.payload)
      const mapped = mapFile(ingested.payload, profile)
      add(EVENT.mapped, mapped)
      const validated = validateFile(mapped, { now: CHECK_NOW })
      if (!validated.ok) add(EVENT.rejected, validated.payload)
      else {
        add(EVENT.validated, validated.payload)
        const enriched = enrichFile(validated.payload, world.reference)
        add(EVENT.enriched, enriched)
        const resolved = resolveFile(enriched, world.reference)
        add(EVENT.resolved, resolved)
        const scored = scoreFile(validated.payload, new Map(), scoreOptionsFor(world.reference)).payload
        add(EVENT.scored, scored)
        add(EVENT.delivered, deliveredPayload(resolved, scored, buildOutput(correlationId, resolved, scored)))
      }
    }
  }
  bundles.set(memo, out)
  return out
}

/**
 * Inputs for the fund pipeline's consumers: one to three files (shipped fixtures or faker-made
 * NAV files, sometimes a second copy of one), each file's events from the pure stages, keeping
 * the types the consumer reads, in a generated arrival order (streams are ordered per type
 * only, so any interleaving of types is possible), with some events left out.
 */
export function fundInputs(world: () => FundWorld, maxEvents = 8): InputModel {
  const file = fc.oneof(
    fc.constantFrom(...fixtures().map((_, i) => i)).map((i) => ({ fixture: i })),
    fc.integer({ min: 1, max: 40 }).map((seed) => ({ seed })),
  )
  const spec = fc.record({
    file,
    copy: fc.boolean(),
    order: fc.array(fc.nat({ max: 20 }), { minLength: 10, maxLength: 10 }),
    // 0 leaves the event out: one in five is missing, and shrinking removes events (nat shrinks to 0).
    keep: fc.array(fc.nat({ max: 4 }), { minLength: 10, maxLength: 10 }),
  })
  return {
    events(consumer: ConsumerDefinition) {
      const reads = new Set(consumer.subscribes)
      return fc.array(spec, { minLength: 1, maxLength: 3 }).map((specs) => {
        const ranked: { draft: DraftEvent; rank: number }[] = []
        specs.forEach((s, f) => {
          const content = 'fixture' in s.file ? (fixtures()[s.file.fixture] as FundFile) : fakerNavFile(s.file.seed, world())
          const correlationId = CORRELATION_POOL[f % CORRELATION_POOL.length] as string
          fileEvents(content, correlationId, s.copy && f > 0, world()).forEach((draft, step) => {
            if (!reads.has(draft.type) || s.keep[step] === 0) return
            ranked.push({ draft, rank: (s.order[step] ?? 0) * 100 + f * 10 + step })
          })
        })
        return ranked
          .sort((a, b) => a.rank - b.rank)
          .slice(0, maxEvents)
          .map((r) => r.draft)
      }).filter((list) => list.length > 0)
    },
  }
}
