import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createBus } from '../bus/index.js'
import { loadNamespace } from '../bus/scratch.js'
import { builtinSource, listingHost, type PipelineSource } from '../pipeline/source.js'
import { resolveRedis } from '../redis/index.js'
import { generateDay, type GenerateOptions } from './day.js'
import { evaluateGates, type Gate, type GateResult } from './gates.js'
import { runLoad, type LoadOptions, type LoadReport } from './drive-day.js'
import { loadNote } from './load-progress.js'
import { createProgress, type Progress } from './progress.js'
import { readDay, writeDay, type DayOnDisk } from './store.js'
import { loadReporter } from './report.js'
import type { ReportSeries } from './report-series.js'
import { dayStartMs, LAST_MS_OF_DAY } from './calendar.js'
import { spreadStages, waitForLeases, WorkerPool } from './workers.js'

export interface LoadTestOptions {
  readonly redisUrl?: string | undefined
  readonly projectDir?: string
  /** Read this day instead of generating one. */
  readonly dayDir?: string | undefined
  readonly generate: GenerateOptions
  readonly speed: 'max' | number
  readonly maxInFlight?: number
  /** Consumers in this many `pipeline worker` processes; 0 in this process; default {@link defaultWorkers}. */
  readonly workers?: number
  /** Partitions of the run's namespace (`--partitions`); default 1. */
  readonly partitions?: number | undefined
  readonly gates: readonly Gate[]
  readonly keep: boolean
  /** Progress bar on stderr. */
  readonly progress: boolean
  readonly window?: { readonly fromMs: number; readonly toMs: number }
  /** Ctrl-C: the run stops and deletes its namespace, as a finished one does. */
  readonly signal?: AbortSignal
  /** The pipeline the day flows through: the project's (its config), else the built-in one. */
  readonly source?: PipelineSource
  /** Write the run's self-contained HTML report here (`--report`). */
  readonly report?: string | undefined
  /** Reference data from this Postgres (`--reference-db`), seeded by `generate --reference-db`. */
  readonly referenceDb?: string | undefined
}

export interface LoadTestResult extends LoadReport {
  /** `pipeline worker` processes the consumers ran in; 0: in the driver's process. */
  readonly workers: number
  readonly dayDir: string
  readonly outDir: string
  readonly gates: readonly GateResult[]
  readonly gatesBroken: number
}

/** The day to run: read from `dayDir`, or generated into `<work>/day`. */
export function openDay(options: Pick<LoadTestOptions, 'dayDir' | 'generate' | 'progress'>, work: string): DayOnDisk {
  if (options.dayDir !== undefined) return readDay(options.dayDir)
  if (options.progress) process.stderr.write(`generating a day of about ${options.generate.eventsPerDay.toLocaleString('en-US')} events (seed ${options.generate.seed})...\n`)
  return writeDay(generateDay(options.generate), join(work, 'day'))
}

/** What every load run takes from the command's options, whatever else it adds. */
export function loadRunOptions(
  options: Pick<LoadTestOptions, 'speed' | 'keep' | 'maxInFlight' | 'signal' | 'source' | 'partitions'>,
  run: { url: string; namespace: string; day: DayOnDisk; outDir: string; bar: Progress | null; series?: ReportSeries | undefined },
): LoadOptions {
  const bar = run.bar
  return {
    url: run.url,
    namespace: run.namespace,
    day: run.day,
    outDir: run.outDir,
    ...(options.partitions === undefined ? {} : { partitions: options.partitions }),
    speed: options.speed,
    keep: options.keep,
    ...(options.maxInFlight === undefined ? {} : { maxInFlight: options.maxInFlight }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.source === undefined ? {} : { source: options.source }),
    ...(run.series === undefined ? {} : { series: run.series }),
    ...(bar === null ? {} : { onProgress: (p) => bar.update({ done: p.done, total: p.total, rate: p.eventsPerSecond, rateUnit: 'events/s', etaMs: p.etaMs, note: loadNote(p, options.speed) }) }),
  }
}

/** Days at least this big run their consumers in worker processes by default (see bench/README.md: below it, starting them costs more than they save). */
export const WORKERS_FROM_EVENTS = 50_000

/** One worker per core (at most 4) for a big day on a machine with cores to spare, else none. */
export function defaultWorkers(events: number, cores = availableParallelism()): number {
  return events >= WORKERS_FROM_EVENTS && cores >= 2 ? Math.min(cores, 4) : 0
}

/** Entries per read of a load's workers: the in-process runners' batch (drive-day.ts). */
const LOAD_WORKER_BATCH = 500

export interface LoadWorkersOptions {
  readonly url: string
  readonly namespace: string
  readonly day: DayOnDisk
  readonly outDir: string
  /** Where each worker's output goes (`<stages>-<n>.log`). */
  readonly logDir: string
  readonly workers: number
  /** Stored with the namespace before the workers start, so they take it. */
  readonly partitions?: number | undefined
  readonly source?: PipelineSource | undefined
  /** The workers' reference data from this Postgres (`--reference-db`). */
  readonly referenceDb?: string | undefined
  readonly log?: (line: string) => void
}

/** The consumers dealt over `workers` `pipeline worker` processes, each holding its leases before the clock starts. */
export async function startLoadWorkers(options: LoadWorkersOptions): Promise<WorkerPool> {
  const { day } = options
  mkdirSync(options.logDir, { recursive: true })
  const source = options.source ?? builtinSource()
  const consumers = source.consumers(listingHost())
  const stages = consumers.map((c) => c.name)
  const groups = spreadStages(consumers, options.workers)
  const pool = new WorkerPool({
    url: options.url,
    namespace: options.namespace,
    outDir: options.outDir,
    referenceDir: day.referenceDir,
    clock: new Date(dayStartMs(day.manifest.date) + LAST_MS_OF_DAY),
    visibilityTimeoutMs: 10_000,
    logDir: options.logDir,
    config: source.file,
    batchSize: LOAD_WORKER_BATCH,
    referenceDb: options.referenceDb,
  })
  options.log?.(`starting ${groups.length} worker processes (${groups.map((g) => g.join(', ')).join(' | ')})...`)
  const bus = await createBus({ url: options.url, namespace: options.namespace, warn: () => {}, ...(options.partitions === undefined ? {} : { partitions: options.partitions }) })
  try {
    await pool.startAll(groups)
    await waitForLeases(bus, stages)
  } catch (error) {
    await pool.stopAll()
    throw error
  } finally {
    await bus.close()
  }
  return pool
}

/** `pipeline load`: a day (generated or read), Redis (given or managed), one run, gates checked. */
export async function loadTest(options: LoadTestOptions): Promise<LoadTestResult> {
  const work = mkdtempSync(join(tmpdir(), 'pipeline-load-'))
  const redis = await resolveRedis({ url: options.redisUrl, projectDir: options.projectDir ?? process.cwd(), startIfMissing: true })
  try {
    const day = openDay(options, work)
    const outDir = join(work, 'out')
    const namespace = loadNamespace(day.manifest.seed)
    const bar = options.progress ? createProgress('load') : null
    const reporter = loadReporter(options.report)
    const workers = options.workers ?? defaultWorkers(day.manifest.expectedEvents)
    const pool = workers === 0 ? null : await startLoadWorkers({ url: redis.url, namespace, day, outDir, logDir: join(work, 'logs'), workers, partitions: options.partitions, source: options.source, referenceDb: options.referenceDb, ...(bar === null ? {} : { log: (line: string) => bar.log(line) }) })
    const report = await runLoad({
      ...loadRunOptions(options, { url: redis.url, namespace, day, outDir, bar, series: reporter.series }),
      ...(options.window === undefined ? {} : { window: options.window }),
      ...(options.referenceDb === undefined ? {} : { referenceDb: options.referenceDb }),
      ...(pool === null ? {} : { stages: 'external' as const, inspect: () => pool.stopAll() }),
    }).finally(() => pool?.stopAll())
    bar?.finish()
    const gates = evaluateGates(report, options.gates)
    const result = { ...report, workers, dayDir: day.dir, outDir, gates, gatesBroken: gates.filter((g) => !g.ok).length }
    await reporter.write(result)
    return result
  } finally {
    await redis.release()
    if (!options.keep) rmSync(work, { recursive: true, force: true })
  }
}
