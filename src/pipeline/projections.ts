import { eachPartition } from '../bus/across.js'
import type { Bus } from '../bus/bus.js'
import { EVENT, type Issue, type ValidatedPayload } from './types.js'

/** Hash of the nav-latest projection: field = share class ISIN, value = JSON {@link LatestNav}. */
export const NAV_LATEST_HASH = 'nav-latest'

/**
 * Hash of the file-journey projection that the console searches: field = the file name in lower
 * case, a space and the correlation id; value = the correlation id. HSCAN MATCH over one hash
 * finds a name or id fragment without walking the whole keyspace.
 */
export const FILE_NAMES_HASH = 'names'

export function fileNameField(fileName: string, correlationId: string): string {
  return `${fileName.toLowerCase()} ${correlationId}`
}

/** State name of one file's journey in the file-journey projection. */
export function journeyKey(correlationId: string): string {
  return `file:${correlationId}`
}

export interface LatestNav {
  readonly nav: number
  readonly currency: string
  readonly navDate: string
  readonly correlationId: string
}

/**
 * Whether `candidate` replaces `stored`: a later NAV date wins; on the same date the later file
 * (correlation ids are UUIDv7, so they sort by time) wins. Total order, so replays and any
 * arrival order converge to the same value.
 */
export function newerNav(stored: LatestNav | null, candidate: LatestNav): boolean {
  if (stored === null) return true
  if (candidate.navDate !== stored.navDate) return candidate.navDate > stored.navDate
  return candidate.correlationId >= stored.correlationId
}

/** The latest NAV per ISIN that one validated NAV file offers (last row wins within the file). */
export function navCandidates(file: ValidatedPayload, correlationId: string): Map<string, LatestNav> {
  const out = new Map<string, LatestNav>()
  if (file.kind !== 'nav') return out
  for (const r of file.records) {
    const { isin, nav, currency, navDate } = r.fields
    if (typeof isin !== 'string' || typeof nav !== 'number' || typeof currency !== 'string' || typeof navDate !== 'string') continue
    const candidate = { nav, currency, navDate, correlationId }
    if (newerNav(out.get(isin) ?? null, candidate)) out.set(isin, candidate)
  }
  return out
}

export type JourneyStatus = 'received' | 'ingested' | 'mapped' | 'validated' | 'rejected' | 'delivered' | 'duplicate'

export interface FileJourney {
  readonly fileName: string
  readonly kind: string | null
  readonly status: JourneyStatus
  readonly lastType: string
  /** The latest `occurredAt` seen (event time, not the projection's clock). */
  readonly updatedAt: string
  readonly steps: readonly { readonly id: string; readonly type: string; readonly at: string }[]
  readonly reasons?: readonly Issue[]
}

const STATUS_OF: Readonly<Record<string, JourneyStatus>> = {
  [EVENT.received]: 'received',
  [EVENT.ingested]: 'ingested',
  [EVENT.mapped]: 'mapped',
  [EVENT.validated]: 'validated',
  [EVENT.enriched]: 'validated',
  [EVENT.resolved]: 'validated',
  [EVENT.scored]: 'validated',
  [EVENT.rejected]: 'rejected',
  [EVENT.delivered]: 'delivered',
  [EVENT.duplicate]: 'duplicate',
}

// Streams are ordered per type, not across types: a late "mapped" must not undo "delivered".
const RANK: Readonly<Record<JourneyStatus, number>> = { received: 0, ingested: 1, mapped: 2, validated: 3, rejected: 4, delivered: 4, duplicate: 4 }

export interface JourneyEvent {
  readonly id: string
  readonly type: string
  readonly occurredAt: string
  readonly payload: unknown
}

/**
 * Folds one event into a file's journey, as a pure function; null when it changes nothing
 * (the same event id applied twice, or a type the journey does not track).
 */
export function applyJourney(prev: FileJourney | null, event: JourneyEvent): FileJourney | null {
  const status = STATUS_OF[event.type]
  if (status === undefined) return null
  if (prev?.steps.some((s) => s.id === event.id)) return null
  const p = (event.payload ?? {}) as { fileName?: unknown; kind?: unknown; reasons?: unknown }
  const steps = [...(prev?.steps ?? []), { id: event.id, type: event.type, at: event.occurredAt }].sort((a, b) =>
    a.at === b.at ? a.id.localeCompare(b.id) : a.at.localeCompare(b.at),
  )
  const keep = prev !== null && RANK[prev.status] >= RANK[status]
  const last = steps[steps.length - 1]
  const reasons = event.type === EVENT.rejected && Array.isArray(p.reasons) ? (p.reasons as Issue[]) : prev?.reasons
  return {
    fileName: prev?.fileName ?? (typeof p.fileName === 'string' ? p.fileName : ''),
    kind: prev?.kind ?? (typeof p.kind === 'string' ? p.kind : null),
    status: keep ? prev.status : status,
    lastType: last?.type ?? event.type,
    updatedAt: last?.at ?? event.occurredAt,
    steps,
    ...(reasons === undefined ? {} : { reasons }),
  }
}

/** The minimal read side the HTTP layer needs (a consumer's state, or Redis behind the same names). */
export interface StateReader {
  get(name: string): Promise<string | null>
  hget(name: string, field: string): Promise<string | null>
  /** The field in every partition's state that has it (a projection keyed by file holds an ISIN in several). */
  hgetEach?(name: string, field: string): Promise<string[]>
}

/**
 * Read side of a projection consumer's state (HTTP, the console), over every partition: a key is
 * in the partition its events went to, so `get`/`hget` answer with the first partition that has it.
 */
export function projectionState(bus: Bus, consumer: string): StateReader {
  if (bus.partitionCount === 1) {
    return {
      get: (name) => bus.redis.get(bus.keys.state(consumer, name)),
      hget: (name, field) => bus.redis.hget(bus.keys.state(consumer, name), field),
    }
  }
  const hgetEach = async (name: string, field: string) => (await eachPartition(bus, (view) => view.redis.hget(view.keys.state(consumer, name), field))).filter((v): v is string => v !== null)
  return {
    get: async (name) => (await eachPartition(bus, (view) => view.redis.get(view.keys.state(consumer, name)))).find((v) => v !== null) ?? null,
    hget: async (name, field) => (await hgetEach(name, field))[0] ?? null,
    hgetEach,
  }
}

/** One file's journey from the file-journey projection's state; null when never seen. */
export async function readFileJourney(state: StateReader, correlationId: string): Promise<FileJourney | null> {
  const raw = await state.get(journeyKey(correlationId))
  return raw === null ? null : (JSON.parse(raw) as FileJourney)
}

/** The latest NAV of a share class from the nav-latest projection's state; null when unknown. */
export async function readLatestNav(state: StateReader, isin: string): Promise<LatestNav | null> {
  if (state.hgetEach !== undefined) {
    // Several partitions may hold the ISIN (files of it went to each): the newest NAV wins.
    let latest: LatestNav | null = null
    for (const raw of await state.hgetEach(NAV_LATEST_HASH, isin.toUpperCase())) {
      const nav = JSON.parse(raw) as LatestNav
      if (newerNav(latest, nav)) latest = nav
    }
    return latest
  }
  const raw = await state.hget(NAV_LATEST_HASH, isin.toUpperCase())
  return raw === null ? null : (JSON.parse(raw) as LatestNav)
}
