import { setTimeout as sleep } from 'node:timers/promises'
import { join } from 'node:path'
import { eachPartition } from '../bus/across.js'
import { entryTime } from '../bus/entry-ids.js'
import { deleteNamespaces } from '../bus/scratch.js'
import { consumerStatus, createBus, type Bus, type ConsumerStatus, type RunnerOptions } from '../bus/index.js'
import { EVENT, receivedEvent } from '../pipeline/index.js'
import { routedReceived } from '../pipeline/ingest.js'
import { followReference } from '../pipeline/reference-db.js'
import { builtinSource, type PipelineSource } from '../pipeline/source.js'
import { leftBehind, manifestUnknown, ownFigures, settle, type OwnConsumerFigures } from './own-consumers.js'
import { dayStartMs, LAST_MS_OF_DAY } from './calendar.js'
import { actualOf, JourneyObserver } from './observe.js'
import { compareOutcome, type Mismatch } from './outcome.js'
import type { ReportSeries } from './report-series.js'
import { dayTime, loadEtaMs, WAIT_WORTH_SAYING_MS, type LoadPhase, type LoadProgress } from './load-progress.js'
import { LatencyRecorder, type LatencySummary } from './stats.js'
import { readDayFile, type DayOnDisk } from './store.js'
import type { ManifestFile } from './types.js'

export interface LoadOptions {
  readonly url: string
  /** A fresh namespace for this run (its keys are deleted afterwards unless `keep`). */
  readonly namespace: string
  /** The namespace's partition count (`load --partitions`); default the stored one, else 1. */
  readonly partitions?: number
  readonly day: DayOnDisk
  /** `max`: as fast as the pipeline takes files, with at most `maxInFlight` unfinished; a number: that many times real time. */
  readonly speed: 'max' | number
  readonly maxInFlight?: number
  /** Where deliver writes its output documents. */
  readonly outDir: string
  readonly keep?: boolean
  /**
   * Measure only files arriving in `[fromMs, toMs)` of the day: earlier files are published
   * first at max speed and drained (they set the state, e.g. last NAVs, the window relies on),
   * later ones are left out. Latency and throughput cover the window only.
   */
  readonly window?: { readonly fromMs: number; readonly toMs: number }
  /**
   * With a window: publish the files before it first (default true). Without the warm-up the
   * window's files are checked against a pipeline that never saw the morning, so expect
   * mismatches (a NAV jump needs the previous NAV, a duplicate its original): latency only.
   */
  readonly warmUp?: boolean
  /** Give up on missing files after this long without any file finishing. Default 30 s. */
  readonly idleTimeoutMs?: number
  readonly runner?: RunnerOptions
  /** 'external': the stages already run elsewhere (worker processes) on this namespace. Default 'in-process'. */
  readonly stages?: 'in-process' | 'external'
  /**
   * Awaited before each batch of files is published, `next` of `total` being out (chaos holds
   * traffic here). Returns how many files may go before it is asked again (undefined: no limit).
   */
  readonly beforePublish?: (next: number, total: number) => Promise<number | undefined>
  /** Runs once every file has ended (or the run went idle), before the namespace is cleaned up. */
  readonly inspect?: (bus: Bus, run: { readonly files: readonly ManifestFile[]; readonly correlationIds: readonly string[] }) => Promise<void>
  /** Called as the run goes: what it is doing (warming up, waiting for an arrival time), and time left. */
  readonly onProgress?: (state: LoadProgress) => void
  /** Aborted (Ctrl-C): stop publishing and waiting, and end as a finished run does (namespace deleted unless `keep`). */
  readonly signal?: AbortSignal
  /** The pipeline the day flows through: the project's (its config), else the built-in one. */
  readonly source?: PipelineSource
  /** Records time series for `--report` (report-series.ts). */
  readonly series?: ReportSeries
  /** Reference data from this Postgres's `reference` schema (seeded by `generate --reference-db`) instead of the day's CSV. */
  readonly referenceDb?: string
}

export interface StageLag {
  readonly maxLag: number
  readonly maxPending: number
}

export interface LoadReport {
  readonly namespace: string
  readonly kept: boolean
  readonly seed: number
  readonly date: string
  readonly speed: string
  readonly files: number
  readonly events: number
  readonly expectedEvents: number
  readonly elapsedMs: number
  readonly eventsPerSecond: number
  readonly filesPerSecond: number
  readonly latencyMs: LatencySummary
  readonly stageLag: Readonly<Record<string, StageLag>>
  readonly retries: number
  readonly deadLetters: number
  readonly outcomes: { delivered: number; rejected: number; duplicate: number; missing: number }
  readonly mismatches: number
  /** The first 200 mismatches, with expected and actual outcome. */
  readonly mismatchList: readonly Mismatch[]
  /** The project's consumers the manifest does not know (not fund stages): their figures. */
  readonly consumers: readonly OwnConsumerFigures[]
  /** What those consumers left pending or dead-lettered at the end (counted in mismatches). */
  readonly leftBehind: readonly string[]
}

const DEFAULT_RUNNER: RunnerOptions = { batchSize: 500, blockMs: 100 }

/** Drives a day through the whole pipeline on a fresh namespace and checks every file against the manifest. */
export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const { manifest } = options.day
  const start = dayStartMs(manifest.date)
  const window = options.window ?? { fromMs: 0, toMs: LAST_MS_OF_DAY + 1 }
  const files = manifest.files.filter((f) => f.arrivalMs < window.toMs && (options.warmUp !== false || f.arrivalMs >= window.fromMs))
  const bytes = files.map((f) => readDayFile(options.day, f.name))
  const source = options.source ?? builtinSource()
  const bus = await createBus({ url: options.url, namespace: options.namespace, contracts: source.contracts(), ...(options.partitions === undefined ? {} : { partitions: options.partitions }) })
  const follower = options.referenceDb === undefined ? undefined : await followReference(bus, options.referenceDb, bus.warn).catch(async (error: unknown) => {
    await bus.close()
    throw error
  })
  const consumers = source.consumers({
    outDir: options.outDir,
    referenceDir: options.day.referenceDir,
    ...(follower === undefined ? {} : { reference: () => follower.data }),
    clock: () => new Date(start + LAST_MS_OF_DAY),
    namespace: options.namespace,
    redisUrl: options.url,
    tmpDir: join(options.outDir, '..', 'consumers'),
  })
  const runners = options.stages === 'external' ? null : bus.run(consumers, { ...DEFAULT_RUNNER, ...options.runner })
  const observer = new JourneyObserver(bus)
  observer.start()
  const lags = new Map<string, { maxLag: number; maxPending: number }>(consumers.map((c) => [c.name, { maxLag: 0, maxPending: 0 }]))
  let sampling: Promise<unknown> = Promise.resolve()
  const sample = async (): Promise<ConsumerStatus[]> => {
    const status = await consumerStatus(bus, consumers)
    options.series?.sampleStages(status)
    for (const s of status) {
      const l = lags.get(s.consumer)
      if (l !== undefined) lags.set(s.consumer, { maxLag: Math.max(l.maxLag, s.lag ?? 0), maxPending: Math.max(l.maxPending, s.pending) })
    }
    return status
  }
  const sampler = setInterval(() => {
    sampling = sampling.then(sample).catch(() => undefined)
  }, 200)
  try {
    const driven = await drive(bus, options, files, bytes, window, observer, start)
    const unknown = manifestUnknown(consumers)
    const own = unknown.length === 0 ? [] : ownFigures(await settle(bus, unknown, { idleTimeoutMs: options.idleTimeoutMs ?? 30_000, signal: options.signal }), lags, driven.elapsedMs)
    const left = leftBehind(own)
    clearInterval(sampler)
    await sampling
    const status = await sample()
    const events = await countEvents(bus)
    const nameOf = (c: string): string => driven.names.get(c) ?? c
    const mismatches: Mismatch[] = []
    const outcomes = { delivered: 0, rejected: 0, duplicate: 0, missing: 0 }
    files.forEach((file, i) => {
      const correlationId = driven.correlationIds[i] ?? ''
      const actual = actualOf(observer.endings.get(correlationId), observer.flags.get(correlationId), nameOf)
      outcomes[actual.outcome]++
      const mismatch = compareOutcome(file, actual)
      if (mismatch !== null) mismatches.push(mismatch)
      else if ((observer.endingCounts.get(correlationId) ?? 0) > 1) {
        mismatches.push({ file: file.name, faults: file.faults, expected: file.expected, actual, why: `its journey ended ${observer.endingCounts.get(correlationId)} times` })
      }
    })
    await options.inspect?.(bus, { files, correlationIds: driven.correlationIds })
    const measured = files.filter((f) => f.arrivalMs >= window.fromMs)
    const measuredEvents = options.window === undefined ? events : measured.reduce((a, f) => a + f.events, 0)
    const seconds = Math.max(driven.elapsedMs, 1) / 1000
    return {
      namespace: options.namespace,
      kept: options.keep === true,
      seed: manifest.seed,
      date: manifest.date,
      speed: options.speed === 'max' ? 'max' : `${options.speed}x`,
      files: files.length,
      events,
      expectedEvents: files.reduce((a, f) => a + f.events, 0),
      elapsedMs: Math.round(driven.elapsedMs),
      eventsPerSecond: Math.round(measuredEvents / seconds),
      filesPerSecond: Math.round(measured.length / seconds),
      latencyMs: driven.latency.summary(),
      stageLag: Object.fromEntries(lags),
      retries: status.reduce((a, s) => a + s.retries, 0),
      deadLetters: status.reduce((a, s) => a + s.deadLettered, 0),
      outcomes,
      mismatches: mismatches.length + left.length,
      mismatchList: mismatches.slice(0, 200),
      consumers: own,
      leftBehind: left,
    }
  } finally {
    clearInterval(sampler)
    await observer.stop()
    await runners?.stop()
    await follower?.stop()
    if (options.keep !== true) await deleteNamespaces(bus.redis, bus.namespace)
    await bus.close()
  }
}

interface Driven {
  readonly correlationIds: string[]
  readonly names: Map<string, string>
  readonly latency: LatencyRecorder
  readonly elapsedMs: number
}

/** Publishes files at their (scaled) arrival times and waits until each has ended or the run goes idle. */
async function drive(bus: Bus, options: LoadOptions, files: readonly ManifestFile[], bytes: readonly Buffer[], window: { fromMs: number }, observer: JourneyObserver, start: number): Promise<Driven> {
  const maxInFlight = options.maxInFlight ?? 256
  const idleTimeoutMs = options.idleTimeoutMs ?? 30_000
  const correlationIds: string[] = []
  const receivedMs: number[] = []
  const names = new Map<string, string>()
  const latency = new LatencyRecorder()
  let phaseStart = 0
  let endedAtPhaseStart = 0
  let phase: LoadPhase = 'publishing'
  let waiting: { nextArrival: string; waitMs: number } | null = null
  const paced = options.speed !== 'max'
  const lastDueAt = (): number | null => {
    const last = files[files.length - 1]
    if (!paced || phase === 'draining' || last === undefined) return null
    const span = (last.arrivalMs - window.fromMs) / (options.speed as number)
    // Still warming up: the window's schedule starts once the warm-up has drained.
    return phase === 'warming-up' ? null : phaseStart + span
  }
  const settle = (): void => {
    const now = performance.now()
    const rate = phaseStart === 0 ? 0 : (eventsDone(files, observer.ended) * 1000) / Math.max(1, now - phaseStart)
    const etaMs = loadEtaMs({ now, phaseStart, endedAtPhaseStart, ended: observer.ended, total: files.length, lastDueAt: lastDueAt() })
    options.onProgress?.({ done: observer.ended, total: files.length, eventsPerSecond: rate, phase: waiting === null ? phase : 'waiting', etaMs, nextArrival: waiting?.nextArrival ?? null, waitMs: waiting?.waitMs ?? null })
  }
  const inFlight = (): number => correlationIds.length - observer.ended
  /** Waits until `done`, or until no file has ended for idleTimeoutMs (those files are missing). */
  const drain = async (done: () => boolean): Promise<void> => {
    let lastDone = -1
    let lastChange = performance.now()
    while (!done()) {
      options.signal?.throwIfAborted()
      await observer.tick()
      settle()
      if (observer.ended !== lastDone) {
        lastDone = observer.ended
        lastChange = performance.now()
      } else if (performance.now() - lastChange > idleTimeoutMs) return
    }
  }
  const warmUp = files.findIndex((f) => f.arrivalMs >= window.fromMs)
  const firstMeasured = warmUp === -1 ? files.length : warmUp
  let next = 0
  let warmedUp = false
  phaseStart = performance.now()
  if (firstMeasured > 0) phase = 'warming-up'
  while (next < files.length) {
    options.signal?.throwIfAborted()
    if (next === firstMeasured && firstMeasured > 0 && !warmedUp) {
      await drain(() => inFlight() === 0) // the warm-up ends before the clock starts
      warmedUp = true
      phaseStart = performance.now()
      endedAtPhaseStart = observer.ended
      phase = 'publishing'
    }
    let take: number
    if (options.speed === 'max' || next < firstMeasured) {
      const room = maxInFlight - inFlight()
      if (room <= 0) {
        await observer.tick()
        settle()
        continue
      }
      take = Math.min(room, 100, (next < firstMeasured ? firstMeasured : files.length) - next)
    } else {
      const speed = options.speed
      const dueAt = (f: ManifestFile): number => phaseStart + (f.arrivalMs - window.fromMs) / speed
      const wait = dueAt(files[next] as ManifestFile) - performance.now()
      if (wait > 0) {
        waiting = wait >= WAIT_WORTH_SAYING_MS ? { nextArrival: dayTime((files[next] as ManifestFile).arrivalMs), waitMs: wait } : null
        await sleep(Math.min(wait, 50))
        settle()
        continue
      }
      waiting = null
      take = 0
      const now = performance.now()
      while (next + take < files.length && take < 200 && dueAt(files[next + take] as ManifestFile) <= now) take++
    }
    if (options.beforePublish !== undefined) take = Math.max(1, Math.min(take, (await options.beforePublish(next, files.length)) ?? take))
    const batch = files.slice(next, next + take)
    const published = await bus.publish(
      batch.map((f, i) => routedReceived(receivedEvent(f.name, bytes[next + i] as Buffer, { receivedAt: new Date(start + f.arrivalMs), sourcePath: `${options.day.inboxDir}/${f.name}` }), bus.partitionCount)),
    )
    const sentAt = Date.now()
    published.forEach((p, i) => {
      correlationIds.push(p.correlationId)
      observer.expect(p.correlationId)
      // No entry id: a re-sent publish found its event already there (a reconnect); it was sent about now.
      receivedMs.push(p.entryId === null ? sentAt : entryTime(p.entryId))
      names.set(p.correlationId, batch[i]?.name ?? '')
    })
    next += take
    settle()
  }
  phase = 'draining'
  await drain(() => observer.ended >= files.length)
  const elapsedMs = performance.now() - phaseStart
  await observer.tick() // the scored entries of the last deliveries
  await observer.tick()
  settle()
  correlationIds.forEach((correlationId, i) => {
    const ending = observer.endings.get(correlationId)
    if (i >= firstMeasured && ending !== undefined && receivedMs[i] !== undefined) {
      latency.record(ending.atMs - (receivedMs[i] ?? 0))
      options.series?.fileEnded(receivedMs[i] ?? 0, ending.atMs)
    }
  })
  return { correlationIds, names, latency, elapsedMs }
}

function eventsDone(files: readonly ManifestFile[], done: number): number {
  return Math.round((done * files.reduce((a, f) => a + f.events, 0)) / Math.max(files.length, 1))
}

/** Events appended in the namespace: the length of every pipeline stream. */
async function countEvents(bus: Bus): Promise<number> {
  // A pipeline per partition: on a cluster their streams live in different slots.
  const counts = await eachPartition(bus, async (view) => {
    const p = view.redis.pipeline()
    for (const type of Object.values(EVENT)) p.xlen(view.keys.stream(type))
    return ((await p.exec()) ?? []).reduce((a, [, n]) => a + Number(n ?? 0), 0)
  })
  return counts.reduce((a, n) => a + n, 0)
}

