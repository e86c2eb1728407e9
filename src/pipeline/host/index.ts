import { join, resolve } from 'node:path'
import { createBus, partitionBus, type Bus } from '../../bus/bus.js'
import { DEFAULT_NAMESPACE } from '../../bus/keys.js'
import { trimStream } from '../../bus/retention.js'
import { consumerStatus } from '../../bus/status.js'
import type { Runner, RunnerOptions } from '../../bus/runner.js'
import type { ConsumerDefinition } from '../../bus/types.js'
import { errorMessage } from '../../errors.js'
import { unknownNameError } from '../../names.js'
import { readRelayLag, summarizeLag } from '../../bus/partition-relay.js'
import { createRelay } from '../../outbox/relay.js'
import { followReference, type ReferenceFollower } from '../reference-db.js'
import { redact } from '../../redis/redact.js'
import { builtinSource, type HostEnv, type PipelineSource, type SourceUpdate, type SourceUpdates } from '../source.js'
import { EVENT } from '../types.js'
import { FigureCollector, OutcomeFeed, writeRuntime } from './collect.js'
import type { OutboxFigures, ReloadNote, RuntimeSnapshot, StageFigures } from './figures.js'
import { RunningConsumers } from './running.js'
import { holdBeforeCommit } from './chaos-hold.js'
import { startHttp, type HttpApi } from './http.js'
import { watchInbox, type InboxWatcher, type Intake } from './inbox.js'
import { metricsRegistry } from './prometheus.js'

export interface StartPipelineOptions {
  readonly url: string
  /** 'strict' also flushes each delivered file to disk before it is renamed into place. */
  readonly durability?: 'default' | 'strict'
  readonly namespace?: string
  /** The namespace's partition count (`--partitions`); default: the stored one, else 1. */
  readonly partitions?: number
  readonly projectDir: string
  /** The pipeline to run: a project's config (src/project/), else the built-in fund pipeline. */
  readonly source?: PipelineSource
  /** Default `<projectDir>/.pipeline/inbox`. */
  readonly inboxDir?: string
  /** Default `<projectDir>/.pipeline/out`. */
  readonly outDir?: string
  /** Serve the HTTP API on this loopback port (0 = any free port); none when absent. */
  readonly httpPort?: number
  /** Run only these stages (`pipeline worker`): no inbox, no HTTP, no runtime key. */
  readonly stages?: readonly string[]
  readonly onWarn?: (message: string) => void
  readonly onIntake?: (intake: Intake) => void
  /** "Now" for the not-in-the-future rule (tests pin it). Default the system clock. */
  readonly clock?: () => Date
  /** Folder with `funds.csv` and `identifiers.csv`. Default: the shipped reference data. */
  readonly referenceDir?: string
  /** Batch size, lease length and the like, for every consumer run here. */
  readonly runner?: RunnerOptions
  /** Fault injection: honour the hold keys (see hold.ts). */
  readonly chaosHold?: boolean
  /** Received time stamped on inbox files (tests pin it). Default the system clock. */
  readonly receivedAt?: () => Date
  /** Inbox: how long a file's size must hold still before it is read. Default 300 ms. */
  readonly stabilityMs?: number
  /** Default 1000 ms. */
  readonly snapshotIntervalMs?: number
  /** Per stream, trimmed every minute without dropping unacknowledged entries. Default 1,000,000. */
  readonly retentionMaxLen?: number
  /** New versions of the source (`up` watching the config's files): changed consumers are drained and restarted. */
  readonly updates?: SourceUpdates
  /** Reference data from this Postgres's `reference` schema, kept current by `reference.changed` events (`--reference-db`). */
  readonly referenceDb?: string
  /** Relay this Postgres outbox into the streams (a postgres:// URL; `host/outbox.ts` resolves `managed`). */
  readonly outboxUrl?: string
}

export interface PipelineHandle {
  readonly bus: Bus
  /** The runners now (a reload replaces those of changed consumers). */
  runners(): readonly Runner[]
  readonly http: HttpApi | undefined
  readonly watcher: InboxWatcher | undefined
  readonly inboxDir: string
  readonly outDir: string
  /** The latest figures (refreshed every snapshotIntervalMs). */
  snapshot(): RuntimeSnapshot
  /** Called after each refresh; returns an unsubscribe function. */
  onSnapshot(listener: (snapshot: RuntimeSnapshot) => void): () => void
  /** Refresh now (tests, and the first frame). */
  refresh(): Promise<RuntimeSnapshot>
  /** Graceful: stop taking files, drain and commit in-flight work, close HTTP and Redis. */
  stop(): Promise<void>
}

const WARNINGS_KEPT = 20

/** The consumers whose names `stages` lists (all when undefined); an unknown name is an error naming the valid ones. */
export function selectStages<C extends { readonly name: string }>(consumers: readonly C[], stages: readonly string[] | undefined): C[] {
  if (stages === undefined) return [...consumers]
  const unknown = stages.find((s) => !consumers.some((c) => c.name === s))
  if (unknown !== undefined) throw unknownNameError('E_UNKNOWN_STAGE', 'stage', unknown, consumers.map((c) => c.name))
  return consumers.filter((c) => stages.includes(c.name))
}

/**
 * Runs the fund pipeline in this process: the consumers, an inbox watcher, retention, the HTTP
 * API, and a snapshot of the figures every second (also written to Redis for `pipeline status`).
 */
export async function startPipeline(options: StartPipelineOptions): Promise<PipelineHandle> {
  const projectDir = resolve(options.projectDir)
  const inboxDir = resolve(options.inboxDir ?? join(projectDir, '.pipeline', 'inbox'))
  const outDir = resolve(options.outDir ?? join(projectDir, '.pipeline', 'out'))
  const source = options.source ?? builtinSource()
  let follower: ReferenceFollower | undefined
  const host: HostEnv = {
    outDir,
    syncOutput: options.durability === 'strict',
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.referenceDir === undefined ? {} : { referenceDir: options.referenceDir }),
    // Read only once events flow, after the follower below has loaded the tables.
    ...(options.referenceDb === undefined ? {} : { reference: () => (follower as ReferenceFollower).data }),
    namespace: options.namespace ?? DEFAULT_NAMESPACE,
    redisUrl: options.url,
    tmpDir: join(projectDir, '.pipeline', 'consumers'),
  }
  const all = source.consumers(host)
  const consumers = selectStages(all, options.stages)
  const full = options.stages === undefined
  const warnings: string[] = []
  const warn = (message: string) => {
    const line = redact(message)
    warnings.push(`${new Date().toISOString()} ${line}`)
    if (warnings.length > WARNINGS_KEPT) warnings.shift()
    options.onWarn?.(line)
  }
  const bus = await createBus({ url: options.url, contracts: source.contracts(), warn, ...(options.namespace ? { namespace: options.namespace } : {}), ...(options.partitions === undefined ? {} : { partitions: options.partitions }) })
  try {
    if (options.referenceDb !== undefined) follower = await followReference(bus, options.referenceDb, warn)
  } catch (error) {
    await bus.close()
    throw error
  }
  const relay = options.outboxUrl === undefined ? undefined : createRelay({ url: options.outboxUrl, bus, onWarn: warn })
  relay?.start()
  const outboxDatabase = options.outboxUrl === undefined ? '' : redact(options.outboxUrl)
  const outboxFigures = async (): Promise<OutboxFigures | null> => (relay === undefined ? null : { ...(await relay.figures()), database: outboxDatabase })
  const running = new RunningConsumers(bus, options.chaosHold === true ? { ...options.runner, beforeCommit: holdBeforeCommit(bus) } : options.runner)
  running.start(consumers, source.fingerprint)
  // A worker's figures cover the whole pipeline it is part of; up runs all of it anyway.
  let figured = full ? all : consumers
  let http: HttpApi | undefined
  let watcher: InboxWatcher | undefined
  const collector = new FigureCollector(bus, () => figured, () => running.runners())
  const feed = new OutcomeFeed(bus)
  let latest: RuntimeSnapshot = {
    at: new Date().toISOString(),
    pid: process.pid,
    namespace: bus.namespace,
    redis: redact(options.url),
    inbox: full ? inboxDir : null,
    outDir,
    http: null,
    stages: [],
    recent: [],
    warnings: [],
  }
  const listeners = new Set<(s: RuntimeSnapshot) => void>()
  /** Calls `listener` with every new snapshot (the console's live graph, the dashboard); returns the unsubscribe. */
  const onSnapshot = (listener: (s: RuntimeSnapshot) => void): (() => void) => {
    listeners.add(listener)
    return () => listeners.delete(listener)
  }
  try {
    if (full && options.httpPort !== undefined) {
      http = await startHttp({
        bus,
        port: options.httpPort,
        metrics: metricsRegistry({
          status: () => consumerStatus(bus, figured),
          runners: () => running.runners().map((r) => ({ stage: r.consumer.name, metrics: r.metrics })),
          ...(relay === undefined ? {} : { outbox: outboxFigures }),
          ...(bus.partitionCount === 1 ? {} : { partitionOutbox: () => readRelayLag(bus) }),
        }),
        consumers: () => running.runners().map((r) => ({ name: r.consumer.name, running: running.isRunning(r) })),
        console: {
          bus,
          source,
          consumers: () => figured,
          snapshot: () => latest,
          onSnapshot,
        },
      })
    }
    if (full) {
      watcher = await watchInbox({
        bus,
        dir: inboxDir,
        ...(options.stabilityMs === undefined ? {} : { stabilityMs: options.stabilityMs }),
        ...(options.receivedAt ? { clock: options.receivedAt } : {}),
        ...(options.onIntake ? { onIntake: options.onIntake } : {}),
      })
    }
  } catch (error) {
    await http?.close()
    await relay?.stop()
    await follower?.stop()
    await bus.close()
    throw error
  }

  let reload: ReloadNote | null = null
  let reloading: Promise<void> = Promise.resolve()
  const reloadTo = async (update: SourceUpdate): Promise<void> => {
    const at = new Date().toISOString()
    const failed = (error: unknown) => {
      // Shown by the dashboard's header and a line of plain output (not a warning as well).
      reload = { at, ok: false, restarted: [], added: [], removed: [], error: redact(errorMessage(error)) }
    }
    if ('error' in update) return failed(update.error)
    try {
      const nextAll = update.source.consumers(host)
      // The bus compiled its contracts at start: code that needs others waits for a restart.
      const unknown = [...new Set(nextAll.flatMap((c) => [...c.subscribes, ...(c.emits ?? [])]))].filter((t) => bus.contracts.latestVersion(t) === undefined)
      if (unknown.length > 0) throw new Error(`the new code uses ${unknown.join(', ')}, whose contracts this process did not load at start: restart pipeline up to take them`)
      const diff = await running.replace(selectStages(nextAll, options.stages), update.source.fingerprint)
      figured = full ? nextAll : running.definitions()
      reload = { at, ok: true, restarted: diff.changed, added: diff.added, removed: diff.removed, error: null }
    } catch (error) {
      failed(error)
    }
  }
  const unsubscribe = options.updates?.subscribe((update) => {
    reloading = reloading.then(() => reloadTo(update))
  })

  const refresh = async (): Promise<RuntimeSnapshot> => {
    const [stages, recent, outbox, partitionOutbox] = await Promise.all([
      collector.collect(),
      full ? feed.read() : Promise.resolve([]),
      outboxFigures().catch(() => latest.outbox ?? null),
      bus.partitionCount === 1 ? null : readRelayLag(bus).then(summarizeLag, () => latest.partitionOutbox ?? null),
    ])
    latest = { ...latest, at: new Date().toISOString(), http: http?.url ?? null, stages, recent, warnings: [...warnings], reload, outbox, ...(partitionOutbox === null ? {} : { partitionOutbox }) }
    if (full) await writeRuntime(bus, latest)
    for (const listener of listeners) listener(latest)
    return latest
  }
  let closing = false
  let timer: NodeJS.Timeout | undefined
  let inflight: Promise<void> = Promise.resolve()
  const tick = () => {
    inflight = refresh()
      .then(() => {})
      .catch((error) => warn(`figures: ${errorMessage(error)}`))
      .finally(() => {
        if (!closing) timer = setTimeout(tick, options.snapshotIntervalMs ?? 1_000)
      })
  }
  tick()
  const retention = full ? setInterval(() => void retain(bus, options.retentionMaxLen ?? 1_000_000, warn), 60_000) : undefined

  return {
    bus,
    runners: () => running.runners(),
    http,
    watcher,
    inboxDir,
    outDir,
    snapshot: () => latest,
    onSnapshot,
    refresh,
    async stop() {
      if (closing) return
      closing = true
      clearTimeout(timer)
      clearInterval(retention)
      await inflight
      await watcher?.close()
      unsubscribe?.()
      await reloading
      await relay?.stop()
      await running.stop()
      await follower?.stop()
      await http?.close()
      if (full) await bus.redis.del(bus.keys.runtime).catch(() => {})
      await bus.close()
    },
  }
}

/** Trims each pipeline stream of every partition to maxLen; XLEN first, so the common case costs one call. */
async function retain(bus: Bus, maxLen: number, warn: (m: string) => void): Promise<void> {
  for (let partition = 0; partition < bus.partitionCount; partition++) {
    const view = partitionBus(bus, partition)
    for (const type of Object.values(EVENT)) {
      try {
        if ((await view.redis.xlen(view.keys.stream(type))) > maxLen) await trimStream(view, type, { maxLen })
      } catch (error) {
        warn(`retention on ${type}${bus.partitionCount === 1 ? '' : ` (partition ${partition})`}: ${errorMessage(error)}`)
      }
    }
  }
}

export type { RuntimeSnapshot, StageFigures, FileOutcome } from './figures.js'
export type { Intake } from './inbox.js'
export { readRuntime } from './collect.js'
