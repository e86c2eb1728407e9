import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createBus, type Bus } from '../../bus/index.js'
import { EventspineError } from '../../errors.js'
import { builtinSource } from '../../pipeline/source.js'
import { connect, startOwnedRedis, type OwnedRedis, type RedisClient } from '../../redis/index.js'
import { dayStartMs, LAST_MS_OF_DAY } from '../calendar.js'
import { evaluateGates } from '../gates.js'
import { runLoad, type LoadReport } from '../drive-day.js'
import { loadReporter } from '../report.js'
import { createProgress, type Progress } from '../progress.js'
import { loadRunOptions, openDay, type LoadTestOptions, type LoadTestResult } from '../load-test.js'
import type { DayOnDisk } from '../store.js'
import { checkAppliedOnce, checkDeadLetters, checkOutputs, type Violation } from './checks.js'
import { ChaosController, type FaultRecord } from './controller.js'
import { chaosSchedule, type PlannedFault } from './schedule.js'
import { waitForLeases, WorkerPool } from '../workers.js'

/** How long a silent worker keeps its stage: short, so a chaos run spends its time on faults, not waiting. */
export const CHAOS_VISIBILITY_MS = 2_000
/** A fault not recovered after this long is reported as such. */
const RECOVERY_TIMEOUT_MS = 120_000

export type ChaosOptions = Omit<LoadTestOptions, 'redisUrl' | 'window'>

export interface ChaosResult extends LoadTestResult {
  /** Each fault injected, in order. */
  readonly faults: readonly FaultRecord[]
  readonly chaos: {
    readonly seed: number
    readonly injected: number
    readonly unrecovered: number
    /** The slowest recovery; the recovery timeout when one never recovered. */
    readonly maxRecoveryMs: number
    readonly poisonEvents: number
    /** What broke beyond file outcomes (each also counts as a mismatch). */
    readonly violations: readonly Violation[]
    /** Worker output and Redis's log: kept with --keep, and whenever the run found a problem. */
    readonly logDir: string
  }
}

/**
 * `pipeline load --chaos`: the day through stages running as separate `pipeline worker`
 * processes on a redis-server of its own (appendfsync always, so a kill -9 loses nothing
 * acknowledged), while faults drawn from the seed hit workers, connections and Redis. The
 * manifest check then covers files, dead letters, events applied twice and output documents.
 */
export async function chaosTest(options: ChaosOptions): Promise<ChaosResult> {
  const work = mkdtempSync(join(tmpdir(), 'pipeline-chaos-'))
  const logDir = join(work, 'logs')
  mkdirSync(logDir)
  mkdirSync(join(work, 'redis'))
  let keepWork = options.keep
  let redis: OwnedRedis | undefined
  let pool: WorkerPool | undefined
  // Ctrl-C or a CI timeout must not leave workers or a stopped Redis behind.
  const onSignal = (signal: NodeJS.Signals) => {
    pool?.killAll()
    redis?.kill()
    process.stderr.write(`\n${signal}: chaos run stopped; its files are in ${work}\n`)
    process.exit(130)
  }
  for (const s of SIGNALS) process.once(s, onSignal)
  try {
    redis = await startOwnedRedis({ dir: join(work, 'redis'), appendfsync: 'always', logFile: join(logDir, 'redis.log') })
    const day = openDay(options, work)
    const bar = options.progress ? createProgress('chaos') : null
    const namespace = `chaos-${day.manifest.seed}-${Date.now().toString(36)}`
    pool = new WorkerPool({
      url: redis.url,
      namespace,
      outDir: join(work, 'out'),
      referenceDir: day.referenceDir,
      clock: new Date(dayStartMs(day.manifest.date) + LAST_MS_OF_DAY),
      visibilityTimeoutMs: CHAOS_VISIBILITY_MS,
      logDir,
      config: options.source?.file,
      chaosHold: true,
    })
    const result = await runWithFaults({ options, day, redis, pool, bar, work, logDir, namespace })
    if (result.mismatches > 0 || result.chaos.unrecovered > 0) keepWork = true
    return result
  } catch (error) {
    keepWork = true
    if (error instanceof EventspineError) throw new EventspineError(error.code, error.message, { hint: `${error.hint ?? ''}\nThe run's files (worker and Redis logs): ${work}`.trim() })
    throw error
  } finally {
    for (const s of SIGNALS) process.off(s, onSignal)
    await pool?.stopAll()
    await redis?.stop()
    if (!keepWork) rmSync(work, { recursive: true, force: true })
  }
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const

interface Run {
  readonly options: ChaosOptions
  readonly day: DayOnDisk
  readonly redis: OwnedRedis
  readonly pool: WorkerPool
  readonly bar: Progress | null
  readonly work: string
  readonly logDir: string
  readonly namespace: string
}

async function runWithFaults(run: Run): Promise<ChaosResult> {
  const { options, day, redis, pool, bar, logDir, namespace } = run
  const outDir = join(run.work, 'out')
  const consumers = (options.source ?? builtinSource()).consumers({ outDir, referenceDir: day.referenceDir, namespace, redisUrl: redis.url, tmpDir: join(run.work, 'consumers') })
  const stages = consumers.map((c) => c.name)
  const seed = options.generate.seed
  const schedule = chaosSchedule({
    seed,
    // Worker faults hit the stages on a file's path (the projections emit nothing the manifest checks).
    stages: consumers.filter((c) => (c.emits ?? []).length > 0).map((c) => c.name),
    poisonTypes: [...new Set(consumers.flatMap((c) => c.subscribes))],
    visibilityTimeoutMs: CHAOS_VISIBILITY_MS,
  })
  bar?.log(`starting ${stages.length} worker processes (${stages.join(', ')}) on ${redis.url}...`)
  await pool.startAll(stages)
  let bus: Bus | undefined
  let control: RedisClient | undefined
  try {
    bus = await createBus({ url: redis.url, namespace: namespace, warn: () => {} })
    control = await connect(redis.url, { connectionName: 'chaos-control' })
    await waitForLeases(bus, stages)
    // A standby waits beside the worker a pause will stop, so the pause meets traffic, not a start-up.
    for (const f of schedule) if (f.kind === 'worker-pause') await pool.start(f.stage)
    const controller = new ChaosController({
      bus,
      control,
      redis,
      pool,
      consumers,
      schedule,
      outDir,
      recoveryTimeoutMs: RECOVERY_TIMEOUT_MS,
      onFault: (f) => bar?.log(`  +${seconds(f.atMs)} ${f.description}: ${f.recoveredMs === null ? 'NOT recovered' : `recovered in ${seconds(f.recoveredMs)}`}${f.missed === null ? '' : ` (missed: ${f.missed})`}`),
    })
    const violations: Violation[] = []
    let deadLetters = 0
    const reporter = loadReporter(options.report)
    const report = await runLoad({
      ...loadRunOptions(options, { url: redis.url, namespace: namespace, day, outDir, bar, series: reporter.series }),
      stages: 'external',
      idleTimeoutMs: 60_000,
      beforePublish: (next, total) => controller.beforePublish(next, total),
      inspect: async (runBus, loaded) => {
        await controller.finish()
        await pool.stopAll()
        const dead = await checkDeadLetters(runBus, consumers, controller.poison)
        deadLetters = dead.count
        violations.push(...dead.violations, ...(await checkAppliedOnce(runBus, loaded.correlationIds)))
      },
    })
    bar?.finish()
    violations.push(...(await checkOutputs(outDir, report.outcomes.delivered)))
    violations.push(...faultViolations(schedule, controller.faults, pool))
    const out = result(run, report, { seed, deadLetters, violations, faults: controller.faults, poison: controller.poison.length, outDir, logDir, stages: stages.length })
    await reporter.write(out)
    return out
  } finally {
    await bus?.close()
    control?.disconnect()
  }
}

/** Faults that never fired, missed their target or never recovered, and workers that died by themselves. */
function faultViolations(schedule: readonly PlannedFault[], faults: readonly FaultRecord[], pool: WorkerPool): Violation[] {
  const out: Violation[] = []
  for (const f of schedule.slice(faults.length)) out.push({ kind: 'fault-not-injected', detail: `${f.kind}: the day ended before its point (${Math.round(f.atFraction * 100)}% of the files)` })
  for (const f of faults) {
    if (f.missed !== null) out.push({ kind: 'fault-missed', detail: `${f.kind} at +${seconds(f.atMs)}: ${f.missed}` })
    if (f.recoveredMs === null) out.push({ kind: 'fault-not-recovered', detail: `${f.description} at +${seconds(f.atMs)}: not recovered within ${RECOVERY_TIMEOUT_MS / 1000} s` })
  }
  for (const exit of pool.unexpectedExits) {
    out.push({ kind: 'worker-crashed', detail: `the ${exit.stage} worker exited by itself (${exit.code ?? exit.signal})${exit.replaced ? '' : ' and could not be replaced'}:\n${exit.logTail}` })
  }
  return out
}

function result(
  run: Run,
  report: LoadReport,
  c: { seed: number; deadLetters: number; violations: Violation[]; faults: readonly FaultRecord[]; poison: number; outDir: string; logDir: string; stages: number },
): ChaosResult {
  const withChaos = {
    ...report,
    // Counted after the last fault settled (the report's figure is sampled before).
    deadLetters: c.deadLetters,
    mismatches: report.mismatches + c.violations.length,
    // One per stage (besides the standbys and replacements its faults start).
    workers: c.stages,
    dayDir: run.day.dir,
    outDir: c.outDir,
    faults: c.faults,
    chaos: {
      seed: c.seed,
      injected: c.faults.length,
      unrecovered: c.faults.filter((f) => f.recoveredMs === null).length,
      maxRecoveryMs: Math.max(0, ...c.faults.map((f) => f.recoveredMs ?? RECOVERY_TIMEOUT_MS)),
      poisonEvents: c.poison,
      violations: c.violations,
      logDir: c.logDir,
    },
  }
  const gates = evaluateGates(withChaos, run.options.gates)
  return { ...withChaos, gates, gatesBroken: gates.filter((g) => !g.ok).length }
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`
