import { randomBytes } from 'node:crypto'
import type { EventEnvelope } from '../events/envelope.js'
import { EventspineError } from '../errors.js'
import type { Bus } from './bus.js'
import { eachPartition, sumCounts } from './across.js'
import { compareEntryIds, entryTime } from './entry-ids.js'
import { ONLINE_REBUILD, cancelRebuild, rebuildOnline, type OnlineRebuildResult, type RebuildProof } from './rebuild.js'
import { applyEntries, emptyTally } from './replay-apply.js'
import { sumComparisons } from './state-diff.js'
import type { Snapshot } from './snapshot.js'
import { MergedRange, resolveBounds, type StreamBounds, type WindowRequest } from './replay-window.js'
import type { ConsumerDefinition } from './types.js'
import { redisTimeMs } from '../redis/clock.js'
import { scanAll, unlinkAll } from '../redis/nodes.js'

export interface ReplayOptions extends WindowRequest {
  readonly consumer: ConsumerDefinition
  /** Drop the consumer's state first and replay the whole retained log (projections only). */
  readonly rebuild?: boolean
  /** Only say what would be replayed: no handler runs, nothing is written. */
  readonly dryRun?: boolean
  /** Abandon an unfinished replay of this consumer instead of refusing to start. */
  readonly fresh?: boolean
  /** Events read and handled per step. Default 200. */
  readonly batchSize?: number
  readonly onProgress?: (progress: ReplayProgress) => void
  /** Test hook: runs before each commit (throw to interrupt a replay half-way). */
  readonly beforeCommit?: (events: readonly EventEnvelope[]) => void | Promise<void>
  /** Test hook of an online rebuild: runs once the live instance is fenced, before the proof. */
  readonly fenced?: () => void | Promise<void>
}

export interface ReplayProgress {
  /** Events of the window gone through so far (this run of the command). */
  readonly done: number
  /** Share of the window's time span covered, 0..1 (entry ids are times: no counting pass). */
  readonly fraction: number
  readonly elapsedMs: number
}

export interface ReplaySummary {
  readonly consumer: string
  readonly runId: string
  /** True when this continued a replay left unfinished (interrupted) with the same window. */
  readonly resumed: boolean
  readonly dryRun: boolean
  readonly rebuild: boolean
  readonly droppedStateKeys: number
  readonly window: Readonly<Record<string, StreamBounds>>
  /** Entries of the window read by this run. */
  readonly events: number
  readonly applied: number
  /** Applied by an earlier, interrupted run of this replay: not applied again. */
  readonly alreadyApplied: number
  /** Entries that cannot be read as events (dead-lettered live already): skipped. */
  readonly invalid: number
  readonly failed: number
  readonly failures: readonly { readonly stream: string; readonly entryId: string; readonly eventId: string; readonly error: string }[]
  readonly emitted: Readonly<Record<string, number>>
  readonly elapsedMs: number
  readonly warnings: readonly string[]
  /** A rebuild done while the consumer ran: into shadow keys, proved equal to live, swapped (or not). */
  readonly online?: { readonly deadLettered: number; readonly proof: RebuildProof; readonly fromSnapshot: Snapshot | null; readonly snapshots: number }
  /** With more than one partition: each partition's own run (its record and replay inbox under its keys); the figures above are their sums. */
  readonly partitions?: readonly (Omit<ReplaySummary, 'partitions' | 'consumer'> & { readonly partition: number })[]
}

/** What is kept in Redis while a replay runs, so an interrupted one resumes the same window. */
interface RunRecord {
  readonly runId: string
  readonly request: string
  readonly window: Record<string, StreamBounds>
  readonly rebuild: boolean
  stateDropped: boolean
  readonly startedAt: string
}

/**
 * Runs one consumer again over a window, in every partition: each partition is its own replay
 * (its own run record and replay inbox under its keys, so each resumes alone), all in parallel,
 * their progress and results summed. Before any starts, an unfinished replay of another window
 * in any partition refuses the whole run. A rebuild too is one per partition (a partition's
 * state, lease and log are its own): online where that partition's lease is held, each with its
 * own proof and swap.
 */
export async function replayConsumer(bus: Bus, options: ReplayOptions): Promise<ReplaySummary> {
  if (bus.partitionCount === 1) return replayPartition(bus, options)
  const started = Date.now()
  if (!options.fresh && !options.dryRun && !options.rebuild) {
    const request = describeRequest(options)
    const records = await eachPartition(bus, (view) => view.redis.get(view.keys.replayRun(options.consumer.name)))
    for (const raw of records) if (raw !== null && (JSON.parse(raw) as RunRecord).request !== request) throw unfinished(options.consumer.name, JSON.parse(raw) as RunRecord)
  }
  const progress = bus.partitions.map(() => ({ done: 0, fraction: 0 }))
  const report = options.onProgress
  const runs = await eachPartition(bus, (view, p) =>
    replayPartition(view, {
      ...options,
      ...(report === undefined
        ? {}
        : {
            onProgress: (one: ReplayProgress) => {
              progress[p] = one
              report({ done: progress.reduce((n, x) => n + x.done, 0), fraction: progress.reduce((n, x) => n + x.fraction, 0) / progress.length, elapsedMs: Date.now() - started })
            },
          }),
    }),
  )
  return mergeReplays(options.consumer.name, runs, started)
}

/** `replay --cancel`: abandons the consumer's unfinished replay or rebuild in every partition (`cancelRebuild` in each); live state is untouched. */
export async function cancelReplay(bus: Bus, consumer: string): Promise<{ readonly cancelled: string | null; readonly droppedShadowKeys: number }> {
  const each = await eachPartition(bus, (view) => cancelRebuild(view, consumer))
  const cancelled = each.flatMap((c, p) => (c.cancelled === null ? [] : [bus.partitionCount === 1 ? c.cancelled : `partition ${p}: ${c.cancelled}`]))
  return { cancelled: cancelled.length === 0 ? null : cancelled.join('; '), droppedShadowKeys: each.reduce((n, c) => n + c.droppedShadowKeys, 0) }
}

/** The partitions' replay summaries as one: counts summed, windows spanning all, each run kept under `partitions`. */
function mergeReplays(consumer: string, runs: readonly ReplaySummary[], started: number): ReplaySummary {
  const window: Record<string, StreamBounds> = {}
  const emitted: Record<string, number> = {}
  for (const run of runs) {
    for (const [type, b] of Object.entries(run.window)) {
      const held = window[type]
      window[type] = held === undefined ? b : { from: compareEntryIds(b.from, held.from) < 0 ? b.from : held.from, to: compareEntryIds(b.to, held.to) > 0 ? b.to : held.to }
    }
    for (const [type, n] of Object.entries(run.emitted)) emitted[type] = (emitted[type] ?? 0) + n
  }
  const first = runs[0] as ReplaySummary
  const online = runs.flatMap((r, p) => (r.online === undefined ? [] : [{ p, ...r.online }]))
  return {
    consumer, runId: first.runId, resumed: runs.some((r) => r.resumed), dryRun: first.dryRun, rebuild: first.rebuild,
    droppedStateKeys: runs.reduce((n, r) => n + r.droppedStateKeys, 0), window, ...sumCounts(runs, ['events', 'applied', 'alreadyApplied', 'invalid', 'failed'] as const),
    failures: runs.flatMap((r) => r.failures), emitted, elapsedMs: Date.now() - started, warnings: [...new Set(runs.flatMap((r) => r.warnings))],
    ...(online.length === 0 ? {} : { online: mergeOnline(online) }),
    partitions: runs.map(({ consumer: _c, partitions: _p, ...run }, partition) => ({ partition, ...run })),
  }
}

/** Online rebuilds of several partitions as one: swapped and equal only where every one is; positions named `<partition>/<type>`. */
function mergeOnline(each: readonly (NonNullable<ReplaySummary['online']> & { p: number })[]): NonNullable<ReplaySummary['online']> {
  const position: Record<string, string> = {}
  for (const o of each) for (const [type, id] of Object.entries(o.proof.position)) position[`${o.p}/${type}`] = id
  return {
    deadLettered: each.reduce((n, o) => n + o.deadLettered, 0),
    proof: {
      position,
      comparison: sumComparisons(each.map((o) => o.proof.comparison)),
      equal: each.every((o) => o.proof.equal),
      swapped: each.every((o) => o.proof.swapped),
      renamed: each.reduce((n, o) => n + o.proof.renamed, 0),
      deleted: each.reduce((n, o) => n + o.proof.deleted, 0),
    },
    fromSnapshot: each.find((o) => o.fromSnapshot !== null)?.fromSnapshot ?? null,
    snapshots: each.reduce((n, o) => n + o.snapshots, 0),
  }
}

/**
 * Runs one consumer again over a window of the streams it subscribes to in one partition (that
 * of `bus.keys`), in entry-id order with per-key order kept, touching no consumer group. Effects commit through `lua/commit.lua` with a
 * replay inbox of its own (input ids applied by this run), so an interrupted replay run again
 * with the same window resumes and applies nothing twice. Emitted events get new ids and point
 * at the ids the first run gave them (`replayOf`), so downstream consumers take them as new.
 */
async function replayPartition(bus: Bus, options: ReplayOptions): Promise<ReplaySummary> {
  const { consumer } = options
  const started = Date.now()
  if (options.rebuild && (consumer.emits ?? []).length > 0) {
    throw new EventspineError('E_REPLAY_NOT_PROJECTION', `${consumer.name} emits events (${(consumer.emits ?? []).join(', ')}): --rebuild is for projections`, {
      hint: 'A rebuild drops state and re-derives it from the log; a consumer that emits would publish everything again. Replay a window instead.',
    })
  }
  if (options.rebuild && (options.since !== undefined || options.from !== undefined || options.to !== undefined)) {
    throw new EventspineError('E_REPLAY_BAD_WINDOW', '--rebuild replays the whole retained log: it takes no --since, --from or --to')
  }
  // A live instance holds the consumer's lease: a rebuild then goes into shadow keys and swaps (rebuild.ts).
  const running = (await bus.redis.exists(bus.keys.lease(consumer.name))) === 1
  const recordKey = bus.keys.replayRun(consumer.name)
  if (options.rebuild && !options.dryRun) {
    const pending = await bus.redis.get(recordKey)
    const online = pending !== null && (JSON.parse(pending) as RunRecord).request === ONLINE_REBUILD
    if (pending !== null && options.fresh) await cancelRebuild(bus, consumer.name)
    else if (pending !== null && running && !online) throw unfinished(consumer.name, JSON.parse(pending) as RunRecord)
    if (running || (online && !options.fresh)) return onlineSummary(consumer.name, await rebuildOnline(bus, { consumer, batchSize: options.batchSize ?? 200, onProgress: options.onProgress && ((done, fraction) => options.onProgress?.({ done, fraction, elapsedMs: Date.now() - started })), beforeCommit: options.beforeCommit, fenced: options.fenced }), started)
  }
  const warnings = running ? [`${consumer.name} is running: its live writes to its state may interleave with the replay's`] : []
  const request = describeRequest(options)
  const stored = await bus.redis.get(recordKey)
  let run = stored === null ? undefined : (JSON.parse(stored) as RunRecord)
  if (run && run.request !== request && !options.fresh && !options.dryRun) throw unfinished(consumer.name, run)
  if (run && options.fresh && !options.dryRun) {
    await bus.redis.unlink(recordKey, bus.keys.replayInbox(consumer.name, run.runId))
    run = undefined
  }
  const resumed = run !== undefined && run.request === request
  if (!resumed) {
    run = {
      runId: `${new Date().toISOString().replace(/[-:.]/g, '').slice(0, 15)}-${randomBytes(3).toString('hex')}`,
      request,
      window: await resolveBounds(bus, consumer.subscribes, options, await redisTimeMs(bus.redis)),
      rebuild: options.rebuild ?? false,
      stateDropped: false,
      startedAt: new Date().toISOString(),
    }
  }
  const record = run as RunRecord
  const summary = {
    consumer: consumer.name, runId: record.runId, resumed, dryRun: options.dryRun ?? false, rebuild: record.rebuild, droppedStateKeys: 0,
    window: record.window, events: 0, applied: 0, alreadyApplied: 0, invalid: 0, failed: 0,
    failures: [] as ReplaySummary['failures'][number][], emitted: {} as Record<string, number>, elapsedMs: 0, warnings,
  }
  if (options.dryRun) {
    for (const [type, b] of Object.entries(record.window)) summary.events += await countRange(bus, type, b)
    return { ...summary, elapsedMs: Date.now() - started }
  }
  const save = () => bus.redis.set(recordKey, JSON.stringify(record))
  if (!resumed) await save()
  if (record.rebuild && !record.stateDropped) {
    summary.droppedStateKeys = await dropState(bus, consumer.name)
    record.stateDropped = true
    await save()
  }
  const inbox = bus.keys.replayInbox(consumer.name, record.runId)
  const batchSize = options.batchSize ?? 200
  const range = new MergedRange(bus, record.window, batchSize)
  const span = timeSpan(record.window)
  const tally = emptyTally()
  const applying = { consumer, runId: record.runId, inbox, counter: 'replayed', beforeCommit: options.beforeCommit }
  for (let chunk = await range.take(batchSize); chunk.length > 0; chunk = await range.take(batchSize)) {
    summary.events += chunk.length
    await applyEntries(bus, applying, chunk, tally)
    const last = chunk[chunk.length - 1]
    if (options.onProgress && last) {
      const fraction = span.end > span.start ? (entryTime(last.entry[0]) - span.start) / (span.end - span.start) : 1
      options.onProgress({ done: summary.events, fraction: Math.min(1, Math.max(0, fraction)), elapsedMs: Date.now() - started })
    }
  }
  await bus.redis.unlink(recordKey, inbox)
  return { ...summary, ...tally, elapsedMs: Date.now() - started }
}

function unfinished(consumer: string, run: RunRecord): EventspineError {
  return new EventspineError('E_REPLAY_UNFINISHED', `a replay of ${consumer} (${run.request}, run ${run.runId}, started ${run.startedAt}) did not finish`, {
    hint: 'Run that replay again with the same window to finish it (nothing is applied twice), pass --fresh to abandon it and start again, or --cancel to abandon it.',
  })
}

function onlineSummary(consumer: string, r: OnlineRebuildResult, started: number): ReplaySummary {
  return {
    consumer, runId: r.runId, resumed: r.resumed, dryRun: false, rebuild: true, droppedStateKeys: 0, window: r.window, events: r.events,
    applied: r.applied, alreadyApplied: r.alreadyApplied, invalid: r.invalid, failed: r.failed, failures: r.failures, emitted: r.emitted,
    elapsedMs: Date.now() - started, warnings: [], online: { deadLettered: r.deadLettered, proof: r.proof, fromSnapshot: r.fromSnapshot, snapshots: r.snapshots },
  }
}

/** Deletes every state key of a consumer (SCAN + UNLINK); returns how many. */
export async function dropState(bus: Bus, consumer: string): Promise<number> {
  const prefix = bus.keys.statePrefix(consumer).replace(/[*?[\]\\]/g, '\\$&')
  return unlinkAll(bus.redis, await scanAll(bus.redis, { match: `${prefix}*` }))
}

function describeRequest(options: ReplayOptions): string {
  if (options.rebuild) return 'rebuild'
  const parts: string[] = []
  if (options.since !== undefined) parts.push(`since ${options.since} ms`)
  if (options.from !== undefined) parts.push(`from ${options.from}`)
  if (options.to !== undefined) parts.push(`to ${options.to}`)
  return parts.length === 0 ? 'whole log' : parts.join(' ')
}

function timeSpan(window: Readonly<Record<string, StreamBounds>>): { start: number; end: number } {
  let start = Number.POSITIVE_INFINITY
  let end = 0
  for (const b of Object.values(window)) {
    start = Math.min(start, entryTime(b.from))
    end = Math.max(end, entryTime(b.to))
  }
  return { start: Number.isFinite(start) ? start : 0, end }
}

async function countRange(bus: Bus, type: string, b: StreamBounds): Promise<number> {
  let n = 0
  let from = b.from
  for (;;) {
    const page = (await bus.redis.xrange(bus.keys.stream(type), from, b.to, 'COUNT', 1000)) as [string, string[]][]
    n += page.length
    if (page.length < 1000) return n
    from = `(${(page[page.length - 1] as [string, string[]])[0]}`
  }
}
