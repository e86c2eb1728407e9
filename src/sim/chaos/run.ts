import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { join } from 'node:path'
import { createBus, type Bus } from '../../bus/index.js'
import { pipelineConsumers } from '../../pipeline/index.js'
import { connect, startOwnedRedis } from '../../redis/index.js'
import { EventspineError } from '../../errors.js'
import { dayStartMs, LAST_MS_OF_DAY } from '../calendar.js'
import { evaluateGates } from '../gates.js'
import { runLoad } from '../load.js'
import { createProgress } from '../progress.js'
import { loadRunOptions, openDay, type LoadTestOptions, type LoadTestResult } from '../run.js'
import { checkAppliedOnce, checkDeadLetters, checkOutputs, type Violation } from './checks.js'
import { ChaosController, type FaultRecord } from './controller.js'
import { chaosSchedule } from './schedule.js'
import { WorkerPool, type WorkerProcess } from './workers.js'

/** How long a silent worker keeps its stage: short, so a chaos run spends its time on faults, not waiting. */
export const CHAOS_VISIBILITY_MS = 2_000

export type ChaosOptions = Omit<LoadTestOptions, 'redisUrl' | 'window'>

export interface ChaosResult extends LoadTestResult {
  /** Each fault injected, in order. */
  readonly faults: readonly FaultRecord[]
  readonly chaos: {
    readonly seed: number
    readonly injected: number
    readonly unrecovered: number
    readonly maxRecoveryMs: number
    readonly poisonEvents: number
    /** What broke beyond file outcomes (each also counts as a mismatch). */
    readonly violations: readonly Violation[]
    /** Worker output and Redis's log (kept with --keep). */
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
  const dataDir = join(work, 'redis')
  mkdirSync(logDir)
  mkdirSync(dataDir)
  const redis = await startOwnedRedis({ dir: dataDir, appendfsync: 'always', logFile: join(logDir, 'redis.log') })
  let pool: WorkerPool | undefined
  try {
    const day = openDay(options, work)
    const outDir = join(work, 'out')
    const seed = options.generate.seed
    const namespace = `chaos-${day.manifest.seed}-${Date.now().toString(36)}`
    const consumers = pipelineConsumers({ outDir, referenceDir: day.referenceDir })
    const stages = consumers.map((c) => c.name)
    const bar = options.progress ? createProgress('chaos') : null
    bar?.log(`starting ${stages.length} worker processes (${stages.join(', ')}) on ${redis.url}...`)
    const workers = new WorkerPool({
      url: redis.url,
      namespace,
      outDir,
      referenceDir: day.referenceDir,
      clock: new Date(dayStartMs(day.manifest.date) + LAST_MS_OF_DAY),
      visibilityTimeoutMs: CHAOS_VISIBILITY_MS,
      logDir,
    })
    pool = workers
    const schedule = chaosSchedule({
      seed,
      stages,
      poisonTypes: [...new Set(consumers.flatMap((c) => c.subscribes))],
      visibilityTimeoutMs: CHAOS_VISIBILITY_MS,
    })
    await workers.startAll(stages)
    const bus = await createBus({ url: redis.url, namespace, warn: () => {} })
    const control = await connect(redis.url, { connectionName: 'chaos-control' })
    await waitForLeases(bus, stages)
    const standbys = new Map<string, WorkerProcess>()
    for (const f of schedule) if (f.kind === 'worker-pause') standbys.set(f.stage, await workers.start(f.stage, 'standby'))
    const controller = new ChaosController({
      bus,
      control,
      redis,
      pool: workers,
      consumers,
      schedule,
      standbys,
      onFault: (f) => bar?.log(`  +${seconds(f.atMs)} ${f.description}: ${f.recoveredMs === null ? 'NOT recovered' : `recovered in ${seconds(f.recoveredMs)}`}`),
    })
    const violations: Violation[] = []
    try {
      const report = await runLoad({
        ...loadRunOptions(options, { url: redis.url, namespace, day, outDir, bar }),
        stages: 'external',
        idleTimeoutMs: 60_000,
        beforePublish: (next, total) => controller.beforePublish(next, total),
        inspect: async (runBus, run) => {
          await controller.finish()
          await workers.stopAll()
          violations.push(...(await checkDeadLetters(runBus, consumers, controller.poison)))
          violations.push(...(await checkAppliedOnce(runBus, run.correlationIds)))
        },
      })
      bar?.finish()
      violations.push(...(await checkOutputs(outDir, report.outcomes.delivered)))
      for (const exit of workers.unexpectedExits) {
        violations.push({ kind: 'worker-crashed', detail: `the ${exit.stage} worker exited by itself (${exit.code ?? exit.signal}):\n${exit.logTail}` })
      }
      const faults = controller.faults
      for (const f of faults) if (f.recoveredMs === null) violations.push({ kind: 'fault-not-recovered', detail: `${f.description} at +${seconds(f.atMs)}` })
      const result = {
        ...report,
        mismatches: report.mismatches + violations.length,
        dayDir: day.dir,
        outDir,
        faults,
        chaos: {
          seed,
          injected: faults.length,
          unrecovered: faults.filter((f) => f.recoveredMs === null).length,
          maxRecoveryMs: Math.max(0, ...faults.map((f) => f.recoveredMs ?? 0)),
          poisonEvents: controller.poison.length,
          violations,
          logDir,
        },
      }
      const gates = evaluateGates(result, options.gates)
      return { ...result, gates, gatesBroken: gates.filter((g) => !g.ok).length }
    } finally {
      await bus.close()
      control.disconnect()
    }
  } finally {
    await pool?.stopAll()
    await redis.stop()
    if (!options.keep) rmSync(work, { recursive: true, force: true })
  }
}

/** Every stage's worker holds its lease: the run starts with each stage really working. */
async function waitForLeases(bus: Bus, stages: readonly string[]): Promise<void> {
  const deadline = Date.now() + 30_000
  for (;;) {
    const held = await bus.redis.exists(...stages.map((s) => bus.keys.lease(s)))
    if (held === stages.length) return
    if (Date.now() > deadline) throw new EventspineError('E_CHAOS_WORKER', `only ${held} of ${stages.length} workers took their stage within 30 s`, { hint: 'See the worker logs (--keep keeps them).' })
    await sleep(50)
  }
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`
