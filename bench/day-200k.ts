/**
 * A very busy day through the whole pipeline: `npx tsx bench/day-200k.ts [--events 200000]
 * [--seed 42] [--faults 0.02] [--scaled-speed 10] [--window-minutes 10] [--skip-max] [--json]`.
 *
 * 1. max speed: the whole day published as fast as the pipeline takes it (at most 256 files in
 *    flight), every file checked against the manifest. Prints elapsed, events/s, mismatches.
 * 2. real-time-scaled latency: the busiest `--window-minutes` of the day (most files arriving)
 *    replayed at `--scaled-speed` times real time, on a fresh namespace. Arrivals are that many
 *    times denser than on the real day, and queueing only grows with the arrival rate, so the
 *    p99 measured here is an upper bound of the p99 the same window has at real-time speed
 *    (1x) — and the busiest window bounds the rest of the day. Run without the morning
 *    before it, so outcomes that need the morning (a NAV jump needs yesterday's NAV) may differ:
 *    this phase reports latency only.
 *
 * Against a throwaway redis-server (no persistence), like `bench/run.ts`.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { generateDay } from '../src/sim/day.js'
import { runLoad, type LoadReport } from '../src/sim/drive-day.js'
import { createProgress } from '../src/sim/progress.js'
import { writeDay } from '../src/sim/store.js'
import type { Manifest } from '../src/sim/types.js'
import { startBenchRedis } from './support/redis.js'

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    seed: { type: 'string', default: '42' },
    faults: { type: 'string', default: '0.02' },
    'scaled-speed': { type: 'string', default: '10' },
    'window-minutes': { type: 'string', default: '10' },
    'skip-max': { type: 'boolean', default: false },
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

async function main(): Promise<void> {
  const events = Number(args.events)
  const work = mkdtempSync(join(tmpdir(), 'bench-day-'))
  const redis = await startBenchRedis()
  try {
    let t = performance.now()
    const generated = generateDay({ eventsPerDay: events, date: '2026-11-20', seed: Number(args.seed), faults: Number(args.faults) })
    const day = writeDay(generated, join(work, 'day'))
    say(`generated ${day.manifest.files.length.toLocaleString('en-US')} files, ${day.manifest.expectedEvents.toLocaleString('en-US')} events expected, in ${((performance.now() - t) / 1000).toFixed(1)} s`)

    let max: LoadReport | null = null
    if (!args['skip-max']) {
      const bar = createProgress('max speed')
      t = performance.now()
      max = await runLoad({ url: redis.url, namespace: 'bench-max', day, speed: 'max', outDir: join(work, 'out-max'), onProgress: (p) => bar.update({ done: p.done, total: p.total, rate: p.eventsPerSecond, rateUnit: 'events/s' }) })
      bar.finish()
      say(`max speed: ${max.files} files, ${max.events.toLocaleString('en-US')} events in ${(max.elapsedMs / 1000).toFixed(1)} s = ${max.eventsPerSecond.toLocaleString('en-US')} events/s; mismatches ${max.mismatches}; latency under load p50 ${max.latencyMs.p50} ms p99 ${max.latencyMs.p99} ms max ${max.latencyMs.max} ms; retries ${max.retries}, dead letters ${max.deadLetters}`)
      say(`  largest lag (undelivered/pending): ${lagLine(max)}`)
      for (const m of max.mismatchList.slice(0, 10)) say(`  mismatch ${m.file}: ${m.why}`)
      await redis.flush()
    }

    const speed = Number(args['scaled-speed'])
    const window = busiestWindow(day.manifest, Number(args['window-minutes']))
    const clock = (ms: number): string => new Date(ms).toISOString().slice(11, 16)
    say(`scaled: busiest ${args['window-minutes']} min ${clock(window.fromMs)}-${clock(window.toMs)} (${window.files} files) at ${speed}x real time`)
    const bar = createProgress(`${speed}x`)
    const scaled = await runLoad({ url: redis.url, namespace: 'bench-scaled', day, speed, window, warmUp: false, outDir: join(work, 'out-scaled'), onProgress: (p) => bar.update({ done: p.done, total: p.total, rate: p.eventsPerSecond, rateUnit: 'events/s' }) })
    bar.finish()
    say(`scaled: p50 ${scaled.latencyMs.p50} ms, p95 ${scaled.latencyMs.p95} ms, p99 ${scaled.latencyMs.p99} ms, max ${scaled.latencyMs.max} ms over ${scaled.latencyMs.count} files`)
    say(`  largest lag (undelivered/pending): ${lagLine(scaled)}`)

    const result = {
      events: day.manifest.expectedEvents,
      files: day.manifest.files.length,
      maxSpeed: max === null ? null : { elapsedMs: max.elapsedMs, eventsPerSecond: max.eventsPerSecond, mismatches: max.mismatches, latencyMs: max.latencyMs, stageLag: max.stageLag },
      realTimeScaled: { speed, window: { from: clock(window.fromMs), to: clock(window.toMs), files: window.files }, latencyMs: scaled.latencyMs },
      targets: { elapsedUnder10s: max === null ? null : max.elapsedMs < 10_000, zeroMismatches: max === null ? null : max.mismatches === 0, scaledP99Under20ms: scaled.latencyMs.p99 < 20 },
    }
    if (args.json) process.stdout.write(`${JSON.stringify(result)}\n`)
    else {
      console.log(`day of ${result.events.toLocaleString('en-US')} events (${result.files.toLocaleString('en-US')} files)`)
      if (max !== null) console.log(`  max speed       ${(max.elapsedMs / 1000).toFixed(1)} s, ${max.eventsPerSecond.toLocaleString('en-US')} events/s, mismatches ${max.mismatches}  (target < 10 s, 0)`)
      console.log(`  real-time p99   ${scaled.latencyMs.p99} ms (measured at ${speed}x over the busiest ${args['window-minutes']} min; target < 20 ms)`)
    }
  } finally {
    await redis.stop()
    rmSync(work, { recursive: true, force: true })
  }
}

await main()
