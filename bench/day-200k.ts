/**
 * A very busy day through the whole pipeline: `npx tsx bench/day-200k.ts [--events 200000]
 * [--seed 42] [--faults 0.02] [--runs 3] [--workers 0,2] [--scaled-speed 10]
 * [--window-minutes 10] [--skip-max] [--skip-scaled] [--json]`.
 *
 * 1. max speed: the whole day published as fast as the pipeline takes it (at most 256 files in
 *    flight), every file checked against the manifest, `--runs` times for each `--workers`
 *    count (0: the consumers in the driver's process; N: in N `pipeline worker` processes, as
 *    `pipeline load --workers N` runs them), the counts alternating each round. Prints each
 *    run with the load average, and the median per count.
 * 2. real-time-scaled latency: the busiest `--window-minutes` of the day (most files arriving)
 *    replayed at `--scaled-speed` times real time, on a fresh namespace, once per count.
 *    Arrivals are that many times denser than on the real day, and queueing only grows with
 *    the arrival rate, so the p99 measured here is an upper bound of the p99 the same window
 *    has at real-time speed (1x), and the busiest window bounds the rest of the day. Run
 *    without the morning before it, so outcomes that need the morning (a NAV jump needs
 *    yesterday's NAV) may differ: this phase reports latency only.
 *
 * Against a throwaway redis-server (no persistence), like `bench/run.ts`. `npm run build`
 * first: the workers are the built CLI.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { generateDay } from '../src/sim/day.js'
import { runLoad, type LoadOptions, type LoadReport } from '../src/sim/drive-day.js'
import { startLoadWorkers } from '../src/sim/load-test.js'
import { createProgress } from '../src/sim/progress.js'
import { writeDay, type DayOnDisk } from '../src/sim/store.js'
import type { Manifest } from '../src/sim/types.js'
import { startBenchRedis } from './support/redis.js'

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    seed: { type: 'string', default: '42' },
    faults: { type: 'string', default: '0.02' },
    runs: { type: 'string', default: '3' },
    workers: { type: 'string', default: '0,2' },
    'scaled-speed': { type: 'string', default: '10' },
    'window-minutes': { type: 'string', default: '10' },
    'skip-max': { type: 'boolean', default: false },
    'skip-scaled': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
})

const say = (line: string): void => void process.stderr.write(`${line}\n`)

/** The `minutes`-long window of the day in which the most files arrive. */
function busiestWindow(manifest: Manifest, minutes: number): { fromMs: number; toMs: number; files: number } {
  const width = minutes * 60_000
  const arrivals = manifest.files.map((f) => f.arrivalMs)
  let best = { fromMs: 0, toMs: width, files: 0 }
  let j = 0
  for (let i = 0; i < arrivals.length; i++) {
    while (j < arrivals.length && (arrivals[j] ?? 0) < (arrivals[i] ?? 0) + width) j++
    if (j - i > best.files) best = { fromMs: arrivals[i] ?? 0, toMs: (arrivals[i] ?? 0) + width, files: j - i }
  }
  return best
}

function lagLine(report: LoadReport): string {
  return Object.entries(report.stageLag).map(([stage, l]) => `${stage} ${l.maxLag}/${l.maxPending}`).join(', ')
}

const loadAverage = (): number => Math.round((loadavg()[0] ?? 0) * 10) / 10
const median = (xs: readonly number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2
}

interface Run {
  readonly workers: number
  readonly report: LoadReport
  readonly loadBefore: number
  readonly loadAfter: number
}

let runCount = 0

/** One load of the day on a fresh namespace, its consumers in-process or in `workers` worker processes. */
async function runOnce(url: string, work: string, day: DayOnDisk, workers: number, label: string, extra: Partial<LoadOptions> = {}): Promise<Run> {
  const namespace = `bench-${++runCount}`
  const outDir = join(work, `out-${runCount}`)
  const loadBefore = loadAverage()
  const pool = workers === 0 ? null : await startLoadWorkers({ url, namespace, day, outDir, logDir: join(work, `logs-${runCount}`), workers, log: say })
  const bar = createProgress(label)
  try {
    const report = await runLoad({
      url,
      namespace,
      day,
      speed: 'max',
      outDir,
      ...extra,
      ...(pool === null ? {} : { stages: 'external' as const, inspect: () => pool.stopAll() }),
      onProgress: (p) => bar.update({ done: p.done, total: p.total, rate: p.eventsPerSecond, rateUnit: 'events/s' }),
    })
    return { workers, report, loadBefore, loadAfter: loadAverage() }
  } finally {
    bar.finish()
    await pool?.stopAll()
  }
}

const mode = (workers: number): string => (workers === 0 ? 'in-process' : `${workers} workers`)

async function main(): Promise<void> {
  const events = Number(args.events)
  const rounds = Number(args.runs)
  const counts = String(args.workers).split(',').map(Number)
  const work = mkdtempSync(join(tmpdir(), 'bench-day-'))
  const redis = await startBenchRedis()
  try {
    const t = performance.now()
    const generated = generateDay({ eventsPerDay: events, date: '2026-11-20', seed: Number(args.seed), faults: Number(args.faults) })
    const day = writeDay(generated, join(work, 'day'))
    say(`generated ${day.manifest.files.length.toLocaleString('en-US')} files, ${day.manifest.expectedEvents.toLocaleString('en-US')} events expected, in ${((performance.now() - t) / 1000).toFixed(1)} s`)

    const max: Run[] = []
    if (!args['skip-max']) {
      for (let round = 0; round < rounds; round++) {
        // Alternate the order each round: neither count always runs on a cold or a tired machine.
        for (const workers of round % 2 === 0 ? counts : [...counts].reverse()) {
          const run = await runOnce(redis.url, work, day, workers, `max ${mode(workers)} ${round + 1}/${rounds}`)
          const r = run.report
          say(`max speed, ${mode(workers)}: ${r.events.toLocaleString('en-US')} events in ${(r.elapsedMs / 1000).toFixed(1)} s = ${r.eventsPerSecond.toLocaleString('en-US')} events/s; mismatches ${r.mismatches}; latency p50 ${r.latencyMs.p50} ms p99 ${r.latencyMs.p99} ms; load average ${run.loadBefore} -> ${run.loadAfter}`)
          say(`  largest lag (undelivered/pending): ${lagLine(r)}`)
          for (const m of r.mismatchList.slice(0, 10)) say(`  mismatch ${m.file}: ${m.why}`)
          max.push(run)
          await redis.flush()
        }
      }
    }

    const scaled: Run[] = []
    const speed = Number(args['scaled-speed'])
    const window = busiestWindow(day.manifest, Number(args['window-minutes']))
    const clock = (ms: number): string => new Date(ms).toISOString().slice(11, 16)
    if (!args['skip-scaled']) {
      say(`scaled: busiest ${args['window-minutes']} min ${clock(window.fromMs)}-${clock(window.toMs)} (${window.files} files) at ${speed}x real time`)
      for (const workers of counts) {
        const run = await runOnce(redis.url, work, day, workers, `${speed}x ${mode(workers)}`, { speed, window, warmUp: false })
        const l = run.report.latencyMs
        say(`scaled, ${mode(workers)}: p50 ${l.p50} ms, p95 ${l.p95} ms, p99 ${l.p99} ms, max ${l.max} ms over ${l.count} files; load average ${run.loadBefore} -> ${run.loadAfter}`)
        scaled.push(run)
        await redis.flush()
      }
    }

    const perCount = counts.map((workers) => {
      const runs = max.filter((r) => r.workers === workers)
      const scaledRun = scaled.find((r) => r.workers === workers)
      return {
        workers,
        maxSpeed: runs.length === 0 ? null : {
          medianElapsedMs: median(runs.map((r) => r.report.elapsedMs)),
          runs: runs.map((r) => ({ elapsedMs: r.report.elapsedMs, eventsPerSecond: r.report.eventsPerSecond, mismatches: r.report.mismatches, latencyMs: r.report.latencyMs, loadAverage: [r.loadBefore, r.loadAfter] })),
          mismatches: Math.max(...runs.map((r) => r.report.mismatches)),
        },
        realTimeScaled: scaledRun === undefined ? null : { latencyMs: scaledRun.report.latencyMs, loadAverage: [scaledRun.loadBefore, scaledRun.loadAfter] },
      }
    })
    const result = {
      events: day.manifest.expectedEvents,
      files: day.manifest.files.length,
      window: { from: clock(window.fromMs), to: clock(window.toMs), files: window.files, speed },
      perCount,
    }
    if (args.json) process.stdout.write(`${JSON.stringify(result)}\n`)
    else {
      console.log(`day of ${result.events.toLocaleString('en-US')} events (${result.files.toLocaleString('en-US')} files)`)
      for (const c of perCount) {
        if (c.maxSpeed !== null) console.log(`  ${mode(c.workers).padEnd(11)} max speed median of ${c.maxSpeed.runs.length}: ${(c.maxSpeed.medianElapsedMs / 1000).toFixed(1)} s (runs ${c.maxSpeed.runs.map((r) => (r.elapsedMs / 1000).toFixed(1)).join(', ')} s), mismatches ${c.maxSpeed.mismatches}  (target < 10 s, 0)`)
        if (c.realTimeScaled !== null) console.log(`  ${mode(c.workers).padEnd(11)} real-time p99 ${c.realTimeScaled.latencyMs.p99} ms (at ${speed}x over the busiest ${args['window-minutes']} min; target < 20 ms)`)
      }
      const [base, ...others] = perCount
      for (const o of others) {
        if (base?.maxSpeed && o.maxSpeed) console.log(`  ${mode(o.workers)} / ${mode(base.workers)} elapsed: ${(o.maxSpeed.medianElapsedMs / base.maxSpeed.medianElapsedMs).toFixed(2)}x`)
      }
    }
  } finally {
    await redis.stop()
    rmSync(work, { recursive: true, force: true })
  }
}

await main()
