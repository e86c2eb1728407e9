import type { IndexedItem } from '../../bus/index.js'
import type { BreakerState } from '../../bus/breaker.js'
import { entryTime } from '../../bus/entry-ids.js'
import type { EventEnvelope } from '../../events/index.js'
import type { Issue } from '../types.js'
import { summarizePayload } from './summary.js'
import type { Topology } from './topology.js'

/** One event of a file's journey, with the events it caused below it. */
export interface TraceEvent {
  readonly kind: 'event'
  readonly type: string
  readonly entryId: string
  /** Event id; '' when the entry has been trimmed from its stream since it was indexed. */
  readonly id: string
  /** Who wrote it: the consumer (stage) name, or the publisher's source. */
  readonly source: string
  readonly key: string
  readonly causationId: string
  readonly occurredAt: string
  /** When Redis appended it (from the entry id): one clock for every hop. */
  readonly at: string
  /** Milliseconds since its cause was appended; null for the first event or an unknown cause. */
  readonly latencyMs: number | null
  readonly summary: string
  /** Why a file was rejected: each rule broken, with row, column and value where known. Empty otherwise. */
  readonly reasons: readonly TraceReason[]
  readonly trimmed: boolean
  readonly children: readonly TraceNode[]
}

/** One rule a file broke (a rejected event's `reasons`), as the stage reported it. */
export type TraceReason = Issue

/** An event a consumer gave up on: its error, and how many attempts it took. */
export interface TraceDeadLetter {
  readonly kind: 'dead-letter'
  readonly consumer: string
  readonly entryId: string
  readonly at: string
  /** The event that failed (id and type), from the dead-letter entry's copy of its fields. */
  readonly eventId: string
  readonly eventType: string
  readonly attempts: number | null
  readonly error: string
  /** The entry is gone from the dead-letter stream: re-delivered (`dlq replay`) or purged. */
  readonly removed: boolean
  readonly children: readonly TraceNode[]
}

export type TraceNode = TraceEvent | TraceDeadLetter

/** A consumer that has the file's input and has not emitted yet. */
export interface Awaited {
  readonly consumer: string
  /** What it may emit next (alternatives, e.g. validated or rejected). */
  readonly types: readonly string[]
  /** queued: not handled yet; retrying: failed attempts so far; joining: handled, needs more input. */
  readonly state: 'queued' | 'retrying' | 'joining'
  readonly failedAttempts: number
  /** For a join: the types it reads that the file has not produced yet. */
  readonly needs: readonly string[]
  /** Set when the file's input waits behind the consumer's open breaker (it is paused). */
  readonly paused?: { readonly lastError: string; readonly since: string; readonly nextProbeAt: string | null }
}

export type TraceStatus = 'complete' | 'in-progress' | 'stuck'

export interface Trace {
  readonly correlationId: string
  readonly fileName: string | null
  /** complete: a terminal event happened; stuck: nothing pending and no terminal event (dead letters). */
  readonly status: TraceStatus
  /** The terminal event type (e.g. pipeline.file.delivered), or null. */
  readonly outcome: string | null
  readonly startedAt: string | null
  readonly lastAt: string | null
  /** From the first to the last appended entry. */
  readonly elapsedMs: number
  readonly events: number
  readonly deadLetters: number
  readonly roots: readonly TraceNode[]
  readonly awaited: readonly Awaited[]
}

/** What Redis says about consumers that have not emitted yet, per consumer and input event id. */
export interface ConsumerProbe {
  /** Event ids in the consumer's inbox (handled and committed). */
  readonly handled: ReadonlySet<string>
  /** Failed attempts so far per input event id (an entry being retried). */
  readonly failures: ReadonlyMap<string, number>
  /** The consumer's breaker: while open, its unhandled inputs wait behind it. */
  readonly breaker?: BreakerState
}

/** The consumers that could still be waited on: they read a type the file has and emit something. */
export function candidates(topology: Topology, events: readonly EventEnvelope[]): { consumer: string; inputs: EventEnvelope[] }[] {
  const out: { consumer: string; inputs: EventEnvelope[] }[] = []
  for (const c of topology.consumers) {
    if (c.emits.length === 0) continue
    const inputs = events.filter((e) => c.subscribes.includes(e.type))
    if (inputs.length === 0) continue
    const ids = new Set(inputs.map((e) => e.id as string))
    if (events.some((e) => c.emits.includes(e.type) && ids.has(e.causationId))) continue
    out.push({ consumer: c.name, inputs })
  }
  return out
}

const iso = (entryId: string) => new Date(entryTime(entryId)).toISOString()

/**
 * Builds a file's journey from its correlation index (in index order), the topology and the
 * probes of pending consumers: a tree along the causation chain, dead letters under the event
 * that failed, and what is still awaited. Pure, so the view and `--json` share it.
 */
export function buildTrace(correlationId: string, items: readonly IndexedItem[], topology: Topology, probes: ReadonlyMap<string, ConsumerProbe>): Trace {
  const events = items.flatMap((i) => (i.kind === 'event' && i.event ? [{ entryId: i.entryId, event: i.event }] : []))
  const timeOf = new Map(events.map((e) => [e.event.id as string, entryTime(e.entryId)]))
  // Two passes: make every node (each with its own children list), then hang each under its cause.
  const childrenOf = new Map<string, TraceNode[]>()
  const nodes: { node: TraceNode; parent: string }[] = []
  for (const item of items) {
    const kids: TraceNode[] = []
    if (item.kind === 'event') {
      const e = item.event
      const causeAt = e ? timeOf.get(e.causationId) : undefined
      const node: TraceEvent = {
        kind: 'event',
        type: item.type,
        entryId: item.entryId,
        id: e?.id ?? '',
        source: e?.source ?? '',
        key: e?.key ?? '',
        causationId: e?.causationId ?? '',
        occurredAt: e?.occurredAt ?? '',
        at: iso(item.entryId),
        latencyMs: causeAt === undefined ? null : entryTime(item.entryId) - causeAt,
        summary: e ? summarizePayload(e.payload) : '',
        reasons: e ? reasonsOf(e.payload) : [],
        trimmed: e === null,
        children: kids,
      }
      if (e) childrenOf.set(e.id, kids)
      nodes.push({ node, parent: node.causationId })
    } else {
      const f = item.fields ?? {}
      const attempts = Number(f['attempts'])
      const failedAt = f['failedAt']
      const node: TraceDeadLetter = {
        kind: 'dead-letter',
        consumer: item.consumer,
        entryId: item.entryId,
        at: failedAt !== undefined && !Number.isNaN(Date.parse(failedAt)) ? new Date(failedAt).toISOString() : iso(item.entryId),
        eventId: f['id'] ?? '',
        eventType: f['type'] ?? '',
        attempts: Number.isInteger(attempts) && f['attempts'] !== undefined ? attempts : null,
        error: f['error'] ?? '',
        removed: item.fields === null,
        children: kids,
      }
      nodes.push({ node, parent: node.eventId })
    }
  }
  const roots: TraceNode[] = []
  for (const { node, parent } of nodes) (childrenOf.get(parent) ?? roots).push(node)

  const envelopes = events.map((e) => e.event)
  const terminal = events.find((e) => topology.terminalTypes.includes(e.event.type))
  // A dead letter no longer in its stream was re-delivered or purged: not a reason to be stuck.
  const deadLetters = items.filter((i) => i.kind === 'dead-letter' && i.fields !== null)
  const awaited: Awaited[] = []
  if (!terminal) {
    const seenTypes = new Set(envelopes.map((e) => e.type))
    for (const { consumer, inputs } of candidates(topology, envelopes)) {
      const dead = new Set(deadLetters.flatMap((d) => (d.kind === 'dead-letter' && d.consumer === consumer ? [d.fields?.['id'] ?? ''] : [])))
      const live = inputs.filter((e) => !dead.has(e.id))
      if (live.length === 0) continue
      const probe = probes.get(consumer)
      const unhandled = live.filter((e) => !probe?.handled.has(e.id))
      const failedAttempts = Math.max(0, ...unhandled.map((e) => probe?.failures.get(e.id) ?? 0))
      const def = topology.consumers.find((c) => c.name === consumer)
      const needs = (def?.subscribes ?? []).filter((t) => !seenTypes.has(t))
      // Handled everything it reads and emitted nothing: it chose not to (or the rest was
      // dead-lettered). Nothing is coming from it.
      if (unhandled.length === 0 && needs.length === 0) continue
      const breaker = probe?.breaker
      awaited.push({
        consumer,
        types: def?.emits ?? [],
        state: unhandled.length === 0 ? 'joining' : failedAttempts > 0 ? 'retrying' : 'queued',
        failedAttempts,
        needs,
        ...(breaker?.open && unhandled.length > 0
          ? { paused: { lastError: breaker.lastError, since: new Date(breaker.since).toISOString(), nextProbeAt: breaker.nextProbeAt === null ? null : new Date(breaker.nextProbeAt).toISOString() } }
          : {}),
      })
    }
  }
  const times = items.map((i) => entryTime(i.entryId)).filter((t) => Number.isFinite(t))
  const first = times.length > 0 ? Math.min(...times) : null
  const last = times.length > 0 ? Math.max(...times) : null
  return {
    correlationId,
    fileName: fileNameOf(envelopes),
    status: terminal ? 'complete' : awaited.length > 0 ? 'in-progress' : 'stuck',
    outcome: terminal?.event.type ?? null,
    startedAt: first === null ? null : new Date(first).toISOString(),
    lastAt: last === null ? null : new Date(last).toISOString(),
    elapsedMs: first === null || last === null ? 0 : last - first,
    events: items.filter((i) => i.kind === 'event').length,
    deadLetters: deadLetters.length,
    roots,
    awaited,
  }
}

/** The `reasons` of a payload that has them (a rejection), each kept only when it names a rule. */
function reasonsOf(payload: unknown): TraceReason[] {
  const reasons = (payload as { reasons?: unknown } | null)?.reasons
  if (!Array.isArray(reasons)) return []
  return reasons.flatMap((r: unknown): TraceReason[] => {
    if (typeof r !== 'object' || r === null) return []
    const { rule, message, row, column, value } = r as Record<string, unknown>
    if (typeof rule !== 'string') return []
    return [
      {
        rule,
        message: typeof message === 'string' ? message : '',
        ...(typeof row === 'number' ? { row } : {}),
        ...(typeof column === 'string' ? { column } : {}),
        ...(typeof value === 'string' ? { value } : {}),
      },
    ]
  })
}

function fileNameOf(events: readonly EventEnvelope[]): string | null {
  for (const e of events) {
    const name = (e.payload as { fileName?: unknown } | null)?.fileName
    if (typeof name === 'string') return name
  }
  return null
}
