import { existsSync, readdirSync } from 'node:fs'
import { join, relative } from 'node:path'
import type { Redis } from 'ioredis'
import type { Keys } from '../../src/bus/index.js'
import { EVENT } from '../../src/pipeline/types.js'

/** Helpers shared by the hardening tests (not a test file itself). */

import type { ExpectedFile } from '../support/fixtures.js'
export { expected, fixturesDir, type ExpectedFile } from '../support/fixtures.js'

/** The terminal event type of each outcome in expected.json. */
export const TERMINAL: Record<ExpectedFile['outcome'], string> = { delivered: EVENT.delivered, rejected: EVENT.rejected, duplicate: EVENT.duplicate }

export interface StoredEvent {
  readonly entryId: string
  readonly id: string
  readonly type: string
  readonly correlationId: string
  readonly causationId: string
}

/** One consistent view (one MULTI) of every pipeline stream and of each consumer's inbox. */
export interface Snapshot {
  readonly events: Map<string, StoredEvent[]>
  readonly inbox: Map<string, Set<string>>
  readonly deadLetters: number
}

function fieldsOf(raw: string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (let i = 0; i + 1 < raw.length; i += 2) out[raw[i] as string] = raw[i + 1] as string
  return out
}

export async function snapshot(redis: Redis, keys: Keys, consumers: readonly string[]): Promise<Snapshot> {
  const types = Object.values(EVENT)
  const multi = redis.multi()
  for (const t of types) multi.xrange(keys.stream(t), '-', '+')
  for (const c of consumers) multi.zrange(keys.inbox(c), 0, -1)
  for (const c of consumers) multi.xlen(keys.deadLetters(c))
  const replies = (await multi.exec()) ?? []
  const values = replies.map(([error, value]) => {
    if (error) throw error
    return value
  })
  const events = new Map<string, StoredEvent[]>()
  types.forEach((t, i) => {
    const entries = values[i] as [string, string[]][]
    events.set(
      t,
      entries.map(([entryId, raw]) => {
        const f = fieldsOf(raw)
        return { entryId, id: f['id'] ?? '', type: t, correlationId: f['correlationId'] ?? '', causationId: f['causationId'] ?? '' }
      }),
    )
  })
  const inbox = new Map<string, Set<string>>()
  consumers.forEach((c, i) => inbox.set(c, new Set(values[types.length + i] as string[])))
  const deadLetters = consumers.reduce((sum, _c, i) => sum + Number(values[types.length + consumers.length + i]), 0)
  return { events, inbox, deadLetters }
}

export function allEvents(s: Snapshot): StoredEvent[] {
  return [...s.events.values()].flat()
}

/** Terminal events (delivered, rejected, duplicate) per correlation id. */
export function terminals(s: Snapshot): Map<string, StoredEvent[]> {
  const out = new Map<string, StoredEvent[]>()
  for (const t of Object.values(TERMINAL)) for (const e of s.events.get(t) ?? []) out.set(e.correlationId, [...(out.get(e.correlationId) ?? []), e])
  return out
}

/** Problems with "every file's stage outputs are a prefix of its journey": each event's cause is there. */
export function prefixProblems(s: Snapshot): string[] {
  const ids = new Set(allEvents(s).map((e) => e.id))
  const problems: string[] = []
  for (const e of allEvents(s)) {
    if (e.type === EVENT.received) continue
    if (!ids.has(e.causationId)) problems.push(`${e.type} ${e.id} of ${e.correlationId}: its cause ${e.causationId} is missing`)
  }
  return problems
}

const INPUTS: Record<string, readonly string[]> = {
  ingest: [EVENT.received],
  map: [EVENT.ingested],
  validate: [EVENT.mapped],
  enrich: [EVENT.validated],
  resolve: [EVENT.enriched],
  score: [EVENT.validated],
}

/**
 * Problems with "a commit is whole": for a stage that emits one event per input, an input in its
 * inbox has its emitted event, and an event it emitted has its input in the inbox.
 */
export function halfCommits(s: Snapshot, stages: readonly { name: string; emits?: readonly string[] }[]): string[] {
  const problems: string[] = []
  for (const stage of stages) {
    const inputs = new Set((INPUTS[stage.name] ?? []).flatMap((t) => (s.events.get(t) ?? []).map((e) => e.id)))
    const inbox = s.inbox.get(stage.name) ?? new Set<string>()
    // `rejected` comes from several stages: an emitted event is this stage's when its cause is one of its inputs.
    const emitted = (stage.emits ?? []).flatMap((t) => s.events.get(t) ?? []).filter((e) => inputs.has(e.causationId))
    const causes = new Set(emitted.map((e) => e.causationId))
    for (const e of emitted) if (!inbox.has(e.causationId)) problems.push(`${stage.name} emitted ${e.type} ${e.id} but its input ${e.causationId} is not in its inbox`)
    for (const id of inbox) if (!causes.has(id)) problems.push(`${stage.name} has ${id} in its inbox but emitted nothing for it`)
  }
  return problems
}

/** Stages that emit exactly one event per input (deliver joins two; projections emit none). */
export const ONE_TO_ONE = Object.keys(INPUTS)

/** Every regular file under `dir`, relative, recursively (none when it does not exist). */
export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => relative(dir, join(d.parentPath, d.name)))
}
