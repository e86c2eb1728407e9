import { copyFile, readdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { RunnerOptions } from '../../bus/runner.js'
import { EventspineError } from '../../errors.js'
import { resolveRedis, stopManagedCluster, stopManagedRedis, type ManagedClusterShape, type ResolvedRedis } from '../../redis/index.js'
import { packageRoot } from '../paths.js'
import { loadReferenceData } from '../reference.js'
import { builtinSource, listingHost, type PipelineSource } from '../source.js'
import { selectStages, startPipeline, type PipelineHandle, type StartPipelineOptions } from './index.js'
import { parseOutboxTarget, type OutboxTarget } from '../../outbox/target.js'
import { openOutboxDatabase, type OutboxDatabase } from './outbox.js'
import { findLiveUp, removeUpRecord, upPaths, writeUpRecord } from './record.js'

export interface UpOptions extends Omit<StartPipelineOptions, 'url' | 'stages'> {
  /** --redis-url (or PIPELINE_REDIS_URL); absent: the project's managed redis-server, started if needed. */
  readonly redisUrl?: string | undefined
  readonly durability?: 'default' | 'strict'
  /** Leave a managed redis-server we start running when this process ends (`--detach`). */
  readonly keepRedis?: boolean
  /** `--cluster N`: run on the project's managed Redis Cluster of this shape instead. */
  readonly cluster?: ManagedClusterShape | undefined
  /** Copy the shipped sample files into the inbox once running. */
  readonly demo?: boolean
  /** Written into up.json (for `pipeline down` and `status`). */
  readonly logPath?: string | null
  /** The outbox to relay (`--outbox`); default the config's. */
  readonly outbox?: OutboxTarget | undefined
}

export interface UpSession {
  readonly pipeline: PipelineHandle
  readonly redis: ResolvedRedis
  /** The outbox database relayed here, if any. */
  readonly outbox: OutboxDatabase | undefined
  /** Files --demo copies into the inbox (one at a time, each once the previous was taken in). */
  readonly demoFiles: readonly string[]
  /** Stops the pipeline, then the managed redis-server if this process started it (unless kept). */
  close(): Promise<void>
}

/**
 * The faulty samples --demo adds to the good ones: a rejection per rule family, one per fund
 * standard (FundsXML, EMT, openfunds) and a duplicate.
 */
export const DEMO_FAULTY = [
  'northwind-nav-bad-isin.csv',
  'lumen-nav-unknown-currency.csv',
  'northwind-holdings-weights-92.csv',
  'fundsxml-nav-net-assets-off.xml',
  'emt-missing-ongoing-costs.csv',
  'openfunds-nav-shares-off.csv',
  'northwind-nav-copy.csv',
]

/**
 * `pipeline up` without the view: Redis (given, or managed), the pipeline with its inbox and
 * HTTP, `.pipeline/up.json` for `down` and `status`, and the demo files when asked.
 */
export async function openUp(options: UpOptions): Promise<UpSession> {
  const projectDir = resolve(options.projectDir)
  const running = findLiveUp(projectDir)
  if (running !== undefined && running.pid !== process.pid) {
    throw new EventspineError('E_UP_RUNNING', `pipeline up is already running for this project (pid ${running.pid}).`, {
      hint: 'Follow it with `pipeline status`, or stop it with `pipeline down`.',
    })
  }
  const redis = await resolveRedis({
    url: options.redisUrl,
    projectDir,
    durability: options.durability ?? 'default',
    keepRunning: options.keepRedis ?? false,
    ...(options.cluster === undefined ? {} : { cluster: options.cluster }),
  })
  // --demo copies the next file once the inbox has taken the previous one: a stable order, so
  // the copy of a file comes after it and is the one reported duplicate.
  const taken = new Map<string, () => void>()
  let pipeline: PipelineHandle
  let outbox: OutboxDatabase | undefined
  try {
    outbox = await openOutbox(options.outbox, options.source, projectDir, 'run')
    pipeline = await startPipeline({
      ...options,
      url: redis.url,
      projectDir,
      ...(outbox === undefined ? {} : { outboxUrl: outbox.url }),
      onIntake: (intake) => {
        options.onIntake?.(intake)
        taken.get(intake.fileName)?.()
      },
    })
  } catch (error) {
    // A server kept for --detach is kept for a pipeline that runs; one that failed to start
    // (port in use, bad reference data) must not leave it behind.
    if (options.keepRedis === true && redis.source === 'managed-started') await (redis.managedCluster === undefined ? stopManagedRedis(projectDir) : stopManagedCluster(projectDir))
    else await redis.release()
    await outbox?.release()
    throw error
  }
  writeUpRecord(projectDir, {
    pid: process.pid,
    startedAt: new Date().toISOString(),
    namespace: pipeline.bus.namespace,
    redis: redis.displayUrl,
    redisSource: redis.source,
    inbox: pipeline.inboxDir,
    outDir: pipeline.outDir,
    http: pipeline.http?.url ?? null,
    console: pipeline.http?.consoleUrl ?? null,
    logPath: options.logPath ?? null,
  })
  const demoFiles = options.demo ? await demoFileList() : []
  let closing = false
  const demo = (async () => {
    for (const file of demoFiles) {
      if (closing) return
      const done = new Promise<void>((resolve) => {
        taken.set(file.name, resolve)
        setTimeout(resolve, 10_000).unref()
      })
      await copyFile(file.path, join(pipeline.inboxDir, file.name))
      await done
    }
  })().catch((error) => pipeline.bus.warn(`demo: ${error instanceof Error ? error.message : String(error)}`))
  let closed: Promise<void> | undefined
  return {
    pipeline,
    redis,
    outbox,
    demoFiles: demoFiles.map((f) => f.name),
    close: () =>
      (closed ??= (async () => {
        closing = true
        for (const resolveTaken of taken.values()) resolveTaken()
        await demo
        try {
          await pipeline.stop()
        } finally {
          removeUpRecord(projectDir, process.pid)
          await redis.release()
          await outbox?.release()
        }
      })()),
  }
}

/** The shipped good samples and a few faulty ones, in the order --demo drops them. */
export async function demoFileList(): Promise<{ name: string; path: string }[]> {
  const fixtures = join(packageRoot(), 'fixtures')
  const good = (await readdir(join(fixtures, 'inbox'))).filter((n) => !n.startsWith('.')).sort()
  return [
    ...good.map((name) => ({ name, path: join(fixtures, 'inbox', name) })),
    ...DEMO_FAULTY.map((name) => ({ name, path: join(fixtures, 'faulty', name) })),
  ]
}

export interface WorkerOptions {
  readonly redisUrl?: string | undefined
  readonly namespace?: string
  readonly projectDir: string
  readonly stages: readonly string[]
  /** `--partitions`: the namespace's partition count. */
  readonly partitions?: number | undefined
  /** The project's pipeline (its config); default the built-in one. */
  readonly source?: PipelineSource
  readonly outDir?: string
  readonly onWarn?: (message: string) => void
  readonly referenceDir?: string
  readonly clock?: () => Date
  readonly runner?: RunnerOptions
  readonly chaosHold?: boolean
  /** The outbox to relay (`--outbox`); default the config's. `managed` joins the one `up` started. */
  readonly outbox?: OutboxTarget | undefined
  /** Reference data from this Postgres (`--reference-db`). */
  readonly referenceDb?: string
}

/**
 * `pipeline worker`: only the named stages, against the Redis a `pipeline up` uses (never starts
 * one). Stage names are checked before Redis is looked for.
 */
export async function openWorker(options: WorkerOptions): Promise<{ pipeline: PipelineHandle; redis: ResolvedRedis; outbox: OutboxDatabase | undefined }> {
  selectStages((options.source ?? builtinSource()).consumers(listingHost()), options.stages)
  // Fail now with the table's problem, not later as dead letters of every file.
  if (options.referenceDir !== undefined) loadReferenceData(options.referenceDir)
  const projectDir = resolve(options.projectDir)
  const redis = await resolveRedis({ url: options.redisUrl, projectDir, startIfMissing: false })
  const outbox = await openOutbox(options.outbox, options.source, projectDir, 'join')
  const pipeline = await startPipeline({
    url: redis.url,
    ...(outbox === undefined ? {} : { outboxUrl: outbox.url }),
    projectDir,
    stages: options.stages,
    ...(options.source === undefined ? {} : { source: options.source }),
    ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
    ...(options.partitions === undefined ? {} : { partitions: options.partitions }),
    ...(options.outDir === undefined ? {} : { outDir: options.outDir }),
    ...(options.onWarn === undefined ? {} : { onWarn: options.onWarn }),
    ...(options.referenceDir === undefined ? {} : { referenceDir: options.referenceDir }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.runner === undefined ? {} : { runner: options.runner }),
    ...(options.chaosHold === true ? { chaosHold: true } : {}),
    ...(options.referenceDb === undefined ? {} : { referenceDb: options.referenceDb }),
  })
  return { pipeline, redis, outbox }
}

/** The flag's outbox, else the config's, opened; undefined when neither names one. */
async function openOutbox(flag: OutboxTarget | undefined, source: PipelineSource | undefined, projectDir: string, use: 'run' | 'join'): Promise<OutboxDatabase | undefined> {
  const target = flag ?? (source?.outbox === undefined ? undefined : parseOutboxTarget(source.outbox))
  return target === undefined ? undefined : openOutboxDatabase(target, { projectDir, use })
}

export { upPaths }
