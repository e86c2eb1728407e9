import { randomBytes } from 'node:crypto'
import type { Bus } from './bus.js'
import { compareEntryIds, entryTime } from './entry-ids.js'
import type { Keys } from './keys.js'
import { Lease } from './lease.js'
import { toRecord } from './reader.js'
import { applyEntries, emptyTally, type ApplyRun, type ApplyTally } from './replay-apply.js'
import { MergedRange, type StreamBounds } from './replay-window.js'
import { compareRows, keysUnder, readStateEntries, toRows, type StateComparison } from './state-diff.js'
import { ScriptCode } from './scripts.js'
import { restoreSnapshot, takeSnapshot, type Snapshot } from './snapshot.js'
import type { ConsumerDefinition } from './types.js'
import { EventspineError } from '../errors.js'

type RawEntry = [id: string, fields: string[]]

/** The request text of an online rebuild in the consumer's replay record (a window replay and a rebuild exclude each other). */
export const ONLINE_REBUILD = 'rebuild (online)'

/** What is kept in Redis while an online rebuild runs, so an interrupted one resumes. */
interface OnlineRecord {
  readonly runId: string
  readonly request: typeof ONLINE_REBUILD
  /** The lease token the fence uses (kept, so a resumed or cancelled run can release it). */
  readonly token: string
  /** The live instance's token while fenced, to hand the lease back to. */
  previousHolder?: string
  readonly startedAt: string
  /** Per stream: the shadow holds every entry the live group had acknowledged up to here. */
  through: Record<string, string>
  /** Entries the live group had read but not acknowledged when passed: applied once it has. */
  deferred: Record<string, string[]>
}

export interface RebuildProof {
  /** Where both agree: per stream, the live group's last delivered entry at the fence. */
  readonly position: Readonly<Record<string, string>>
  readonly comparison: StateComparison
  readonly equal: boolean
  readonly swapped: boolean
  /** Shadow keys renamed over live ones, and live keys the rebuild had no counterpart for (deleted). */
  readonly renamed: number
  readonly deleted: number
}

export interface OnlineRebuildResult extends ApplyTally {
  readonly runId: string
  readonly resumed: boolean
  readonly events: number
  /** Entries skipped because the live consumer dead-lettered them (they never reached its state). */
  readonly deadLettered: number
  readonly proof: RebuildProof
  readonly window: Record<string, StreamBounds>
  /** The snapshot it started from (only the tail after it was read), or null: from zero. */
  readonly fromSnapshot: Snapshot | null
  /** Snapshots it saved (`snapshotEvery`). */
  readonly snapshots: number
}

export interface OnlineRebuildOptions {
  readonly consumer: ConsumerDefinition
  readonly batchSize: number
  readonly onProgress?: ((done: number, fraction: number) => void) | undefined
  readonly beforeCommit?: ApplyRun['beforeCommit']
  /** False: start from zero even when the consumer has a snapshot (`reconcile --state` proves against a rebuild from zero). Default true. */
  readonly fromSnapshot?: boolean
  /** False: compare only (`pipeline reconcile --state`), the shadow is dropped whatever the proof says. Default true. */
  readonly swap?: boolean
  /** Test hook: runs once the live consumer is fenced, before the proof. */
  readonly fenced?: (() => void | Promise<void>) | undefined
}

const FENCE_TTL_MS = 10_000
/** Catch-up passes before the fence: each one shrinks the tail the fence has to wait for. */
const PASSES = 3

/** Handler state names go to the shadow keys. */
function shadowKeys(keys: Keys): Keys {
  return { ...keys, state: keys.shadowState, statePrefix: keys.shadowStatePrefix }
}

/**
 * Rebuilds a projection while its live instance keeps committing and serving reads. The shadow
 * (`shadow:<consumer>:*`) is filled from the retained log with exactly the entries the live group
 * has acknowledged and not dead-lettered, in passes that catch up with it. Then the rebuild seizes
 * the consumer's lease: the live instance's next commit is refused (atomically, by the lease
 * check in commit.lua), so its acknowledged set stands still. The shadow applies the last tail,
 * both states are compared row by row, and only when they are equal `lua/swap.lua` renames the
 * shadow over the live keys in one step, still under the lease. Releasing the lease lets the live
 * instance take over again: it claims what it had read and commits it onto the swapped state.
 */
export async function rebuildOnline(bus: Bus, options: OnlineRebuildOptions): Promise<OnlineRebuildResult> {
  const { consumer } = options
  const recordKey = bus.keys.replayRun(consumer.name)
  const stored = await bus.redis.get(recordKey)
  const resumed = stored !== null
  if (stored !== null && (JSON.parse(stored) as { request: string }).request !== ONLINE_REBUILD) {
    throw new EventspineError('E_REPLAY_UNFINISHED', `a replay of ${consumer.name} (${(JSON.parse(stored) as { request: string }).request}) did not finish`, {
      hint: 'Finish it (run it again), or abandon it: `pipeline replay --consumer <name> --cancel`.',
    })
  }
  const record: OnlineRecord = stored !== null ? (JSON.parse(stored) as OnlineRecord) : {
    runId: `${new Date().toISOString().replace(/[-:.]/g, '').slice(0, 15)}-${randomBytes(3).toString('hex')}`,
    request: ONLINE_REBUILD,
    token: randomBytes(12).toString('hex'),
    startedAt: new Date().toISOString(),
    through: {},
    deferred: {},
  }
  const save = () => bus.redis.set(recordKey, JSON.stringify(record))
  let fromSnapshot: Snapshot | null = null
  if (!resumed) {
    await dropShadow(bus, consumer.name)
    if (consumer.snapshotEvery !== undefined && options.fromSnapshot !== false) fromSnapshot = await restoreSnapshot(bus, consumer.name)
    if (fromSnapshot) {
      record.through = { ...fromSnapshot.through }
      record.deferred = Object.fromEntries(Object.entries(fromSnapshot.deferred).map(([t, ids]) => [t, [...ids]]))
    }
    await save()
  }
  const tally = emptyTally()
  const run: ApplyRun = { consumer, runId: record.runId, inbox: bus.keys.replayInbox(consumer.name, record.runId), counter: 'rebuilt', keys: shadowKeys(bus.keys), beforeCommit: options.beforeCommit }
  const progress = { events: 0, deadLettered: 0, window: {} as Record<string, StreamBounds>, snapshots: 0, base: fromSnapshot?.events ?? 0, sinceSnapshot: 0 }

  for (let pass = 0; pass < PASSES; pass++) {
    const behind = await catchUp(bus, options, run, record, await livePositions(bus, consumer), tally, progress)
    await save()
    if (behind < options.batchSize) break
  }
  const lease = new Lease(bus, bus.keys.lease(consumer.name), FENCE_TTL_MS, record.token)
  record.previousHolder = await lease.seize()
  // A resumed run that had fenced already finds its own token: the holder is the one it saved.
  if (record.previousHolder === record.token) record.previousHolder = stored === null ? '' : ((JSON.parse(stored) as OnlineRecord).previousHolder ?? '')
  await save()
  try {
    const position = await livePositions(bus, consumer)
    await catchUp(bus, options, run, record, position, tally, progress)
    if (options.fenced) await options.fenced()
    const live = toRows(await readStateEntries(bus, bus.keys.statePrefix(consumer.name)))
    const shadow = toRows(await readStateEntries(bus, bus.keys.shadowStatePrefix(consumer.name)))
    const comparison = compareRows(live, shadow)
    const equal = comparison.differing === 0
    const swapping = equal && options.swap !== false
    const swap = swapping ? await swapShadow(bus, consumer.name, record.token) : { renamed: 0, deleted: 0 }
    if (!swapping) await dropShadow(bus, consumer.name)
    await bus.redis.unlink(recordKey, run.inbox)
    const at = Object.fromEntries(Object.entries(position).map(([type, p]) => [type, p.lastDelivered]))
    return { ...tally, runId: record.runId, resumed, events: progress.events, deadLettered: progress.deadLettered, window: progress.window, fromSnapshot, snapshots: progress.snapshots, proof: { position: at, comparison, equal, swapped: swapping, ...swap } }
  } finally {
    await lease.handBack(record.previousHolder)
  }
}

/** `replay --rebuild --cancel`: abandons a replay or rebuild left unfinished; the live state is untouched. */
export async function cancelRebuild(bus: Bus, consumer: string): Promise<{ readonly cancelled: string | null; readonly droppedShadowKeys: number }> {
  const recordKey = bus.keys.replayRun(consumer)
  const stored = await bus.redis.get(recordKey)
  if (stored === null) return { cancelled: null, droppedShadowKeys: 0 }
  const record = JSON.parse(stored) as { runId: string; request: string; token?: string; previousHolder?: string }
  // A rebuild that died while it fenced the live instance must not keep it fenced until the TTL.
  if (record.token !== undefined) await bus.redis.esLease(bus.keys.lease(consumer), record.token, FENCE_TTL_MS, 'handback', record.previousHolder ?? '')
  await bus.redis.unlink(recordKey, bus.keys.replayInbox(consumer, record.runId))
  return { cancelled: `${record.request}, run ${record.runId}`, droppedShadowKeys: await dropShadow(bus, consumer) }
}

interface LivePosition {
  /** The group's last delivered entry ('0-0' before it read anything). */
  readonly lastDelivered: string
  /** Read by the live group, not yet acknowledged. */
  readonly pending: ReadonlySet<string>
}

/** Per stream the consumer reads: how far its group got and what it has read but not acknowledged. */
async function livePositions(bus: Bus, consumer: ConsumerDefinition): Promise<Record<string, LivePosition>> {
  const out: Record<string, LivePosition> = {}
  for (const type of consumer.subscribes) {
    const key = bus.keys.stream(type)
    const groups = (await bus.redis.xinfo('GROUPS', key).catch(() => [])) as unknown[][]
    const group = groups.map(toRecord).find((g) => g.name === bus.keys.group(consumer.name))
    if (!group) continue
    const pendingCount = Number(group.pending ?? 0)
    const pending = pendingCount === 0 ? [] : ((await bus.redis.xpending(key, bus.keys.group(consumer.name), '-', '+', pendingCount)) as [string, ...unknown[]][])
    out[type] = { lastDelivered: String(group['last-delivered-id'] ?? '0-0'), pending: new Set(pending.map((p) => p[0])) }
  }
  return out
}

/** Entries the consumer dead-lettered (`<type> <entryId>`): the live state never saw them. */
async function deadLettered(bus: Bus, consumer: string): Promise<Set<string>> {
  const out = new Set<string>()
  const entries = (await bus.redis.xrange(bus.keys.deadLetters(consumer), '-', '+')) as RawEntry[]
  for (const [, fields] of entries) {
    const f: Record<string, string> = {}
    for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i] as string] ??= fields[i + 1] as string
    if (f.stream !== undefined && f.entryId !== undefined) out.add(`${f.stream} ${f.entryId}`)
  }
  return out
}

/**
 * Applies to the shadow what the live group acknowledged since the last pass: the entries it
 * had left pending then and has acknowledged now, and the range up to its last delivered entry,
 * leaving out what is still pending (deferred to the next pass) or dead-lettered. Returns how
 * many entries it applied or deferred (how far behind the live group the shadow was).
 */
async function catchUp(
  bus: Bus,
  options: OnlineRebuildOptions,
  run: ApplyRun,
  record: OnlineRecord,
  position: Record<string, LivePosition>,
  tally: ApplyTally,
  progress: { events: number; deadLettered: number; window: Record<string, StreamBounds>; snapshots: number; base: number; sinceSnapshot: number },
): Promise<number> {
  const dead = await deadLettered(bus, options.consumer.name)
  let behind = 0
  const admit = (type: string, entryId: string, pending: ReadonlySet<string>, deferred: string[]): boolean => {
    if (pending.has(entryId)) return void deferred.push(entryId), false
    if (dead.has(`${type} ${entryId}`)) return void progress.deadLettered++, false
    return true
  }
  // Acknowledged since the last pass: earlier than the range, so first.
  const late: { type: string; key: string; entry: RawEntry }[] = []
  for (const [type, ids] of Object.entries(record.deferred)) {
    const still: string[] = []
    // An interrupted pass may have listed an entry twice.
    ids.splice(0, ids.length, ...new Set(ids))
    const pending = position[type]?.pending ?? new Set<string>()
    const key = bus.keys.stream(type)
    const admitted = ids.filter((id) => admit(type, id, pending, still))
    // One round trip for them all: this runs inside the fence, while the live instance waits.
    const read = admitted.length === 0 ? [] : ((await admitted.reduce((p, id) => p.xrange(key, id, id), bus.redis.pipeline()).exec()) ?? [])
    for (const [error, reply] of read) {
      if (error) throw error
      const [entry] = reply as RawEntry[]
      if (entry) late.push({ type, key, entry })
    }
    record.deferred[type] = still
  }
  late.sort((a, b) => compareEntryIds(a.entry[0], b.entry[0]))
  if (late.length > 0) {
    behind += late.length
    progress.events += late.length
    await applyEntries(bus, run, late, tally)
  }
  const bounds: Record<string, StreamBounds> = {}
  for (const [type, p] of Object.entries(position)) {
    const from = record.through[type]
    if (p.lastDelivered === '0-0' || (from !== undefined && compareEntryIds(from, p.lastDelivered) >= 0)) continue
    bounds[type] = { from: from === undefined ? '-' : `(${from}`, to: p.lastDelivered }
    progress.window[type] = { from: progress.window[type]?.from ?? (from ?? '0-0'), to: p.lastDelivered }
  }
  const span = Object.values(bounds).map((b) => entryTime(b.to)).reduce((a, b) => Math.max(a, b), 0)
  const range = new MergedRange(bus, bounds, options.batchSize)
  const taken: Record<string, string> = { ...record.through }
  const every = options.consumer.snapshotEvery
  for (let chunk = await range.take(options.batchSize); chunk.length > 0; chunk = await range.take(options.batchSize)) {
    for (const { type, entry } of chunk) taken[type] = entry[0]
    const admitted = chunk.filter(({ type, entry }) => admit(type, entry[0], position[type]?.pending ?? new Set(), (record.deferred[type] ??= [])))
    behind += chunk.length
    progress.events += chunk.length
    await applyEntries(bus, run, admitted, tally)
    progress.sinceSnapshot += chunk.length
    if (every !== undefined && progress.sinceSnapshot >= every) {
      // A cut at this chunk: per stream, every entry up to the last one taken is in the shadow, but the deferred.
      await takeSnapshot(bus, options.consumer.name, { through: taken, deferred: record.deferred, events: progress.base + progress.events })
      progress.snapshots++
      progress.sinceSnapshot = 0
    }
    const last = chunk[chunk.length - 1]
    if (options.onProgress && last) options.onProgress(progress.events, span === 0 ? 1 : Math.min(1, entryTime(last.entry[0]) / span))
  }
  for (const [type, p] of Object.entries(position)) if (p.lastDelivered !== '0-0') record.through[type] = p.lastDelivered
  return behind
}

/** Renames every shadow key over its live key and deletes live keys the shadow lacks, in one script under the lease. */
async function swapShadow(bus: Bus, consumer: string, token: string): Promise<{ renamed: number; deleted: number }> {
  const shadowPrefix = bus.keys.shadowStatePrefix(consumer)
  const livePrefix = bus.keys.statePrefix(consumer)
  const shadow = (await keysUnder(bus, shadowPrefix)).sort()
  const targets = shadow.map((k) => livePrefix + k.slice(shadowPrefix.length))
  const keep = new Set(targets)
  const stale = (await keysUnder(bus, livePrefix)).filter((k) => !keep.has(k))
  const keys = [bus.keys.lease(consumer), ...shadow, ...targets, ...stale]
  const reply = (await bus.redis.esSwap(keys.length, ...keys, token, shadow.length)) as number[]
  if (reply[0] === ScriptCode.LeaseLost) {
    throw new EventspineError('E_REBUILD_FENCE_LOST', `the rebuild of ${consumer} lost its fence on the live instance before the swap: nothing was swapped`, {
      hint: 'Run the same command again: it resumes and fences again.',
    })
  }
  return { renamed: Number(reply[0]), deleted: Number(reply[1]) }
}

async function dropShadow(bus: Bus, consumer: string): Promise<number> {
  const keys = await keysUnder(bus, bus.keys.shadowStatePrefix(consumer))
  return keys.length === 0 ? 0 : bus.redis.unlink(...keys)
}
