import { Flags } from '@oclif/core'
import { terminalSafeLines } from '../ui/safe-text.js'
import { BaseCommand } from '../cli/base-command.js'
import { parsedBy, partitionsFlag, redisFlags } from '../cli/flags.js'
import { configFlag, openProject } from '../cli/project.js'
import { FILE_KINDS } from '../pipeline/types.js'
import { todayIso } from '../sim/calendar.js'
import { parseGate, type Gate } from '../sim/gates.js'
import { describe } from '../sim/outcome.js'
import type { LoadTestResult } from '../sim/load-test.js'
import { parseDayDate, parseEventsPerDay, parseFaultRate, parseProvider, parseSpeed } from '../sim/summary.js'
import { PROVIDERS, type ProviderName } from '../sim/types.js'
import type { ChaosResult } from '../sim/chaos/run.js'
import { EventspineError } from '../errors.js'
import { abortOnStopSignal } from '../pipeline/host/signals.js'

export default class Load extends BaseCommand {
  static override summary = 'Load-test the pipeline with a busy day and check every file against the manifest.'
  static override description =
    'Generates a day (or reads one with --day), runs every pipeline stage on a fresh Redis namespace, publishes the files at ' +
    'their arrival times scaled by --speed, and reports throughput, end-to-end latency per file (HdrHistogram), the largest ' +
    'lag per stage, retries, dead letters and every file whose outcome differs from the manifest. --assert gates exit 1 when broken.\n\n' +
    'With --chaos the stages run as separate `pipeline worker` processes on a redis-server of its own (appendfsync always), and ' +
    'faults drawn from --seed hit them during the run: kill -9 of a worker mid-batch, a worker paused past its visibility timeout ' +
    'while a standby takes over, CLIENT KILL of every connection, Redis paused, restarted and killed -9, and a burst of poison ' +
    'events. Each fault is listed with its time and how long the pipeline took to finish the work it caught in flight; dead letters ' +
    'other than the poison, events applied twice, more output documents than delivered files, and a fault that missed its ' +
    'target or never recovered count as mismatches.'

  static override examples = [
    '<%= config.bin %> load --events-per-day 20000 --seed 7',
    "<%= config.bin %> load --day .pipeline/days/2026-11-20-seed1 --speed 60x --assert 'p99<50ms' --assert 'mismatches=0'",
    '<%= config.bin %> load --events-per-day 2000 --faults 0.2 --json',
    '<%= config.bin %> load --events-per-day 200000 --workers 2',
    '<%= config.bin %> load --redis-url redis+cluster://127.0.0.1:7101 --partitions 4 --workers 2',
    "<%= config.bin %> load --chaos --seed 3 --assert 'mismatches=0' --assert 'unrecovered=0'",
  ]

  static override enableJsonFlag = true
  static override flags = {
    ...partitionsFlag,
    'events-per-day': Flags.custom<number>({ summary: 'Size of the generated day, in events.', default: 20_000, parse: parsedBy(parseEventsPerDay) })(),
    speed: Flags.custom<'max' | number>({ summary: "'max' (bounded in-flight) or a multiple of real time, e.g. 60x.", default: 'max', parse: parsedBy(parseSpeed) })(),
    seed: Flags.integer({ summary: 'Seed of the generated day.', default: 1 }),
    faults: Flags.custom<number>({ summary: 'Share of files with a fault, 0-1.', default: 0.02, parse: parsedBy(parseFaultRate) })(),
    date: Flags.custom<string>({ summary: 'Business day of the generated day. Default: today (UTC).', parse: parsedBy(parseDayDate) })(),
    day: Flags.string({ summary: 'Use a day written by `pipeline generate` instead of generating one.' }),
    'reference-db': Flags.string({ summary: 'Take reference data from this Postgres\'s reference schema (seed it with `pipeline generate --reference-db`), not the day\'s CSV.', env: 'PIPELINE_REFERENCE_DB', exclusive: ['chaos'] }),
    providers: Flags.custom<ProviderName>({ summary: 'Senders of the generated day, comma-separated.', multiple: true, delimiter: ',', default: [...PROVIDERS], parse: parsedBy(parseProvider) })(),
    assert: Flags.custom<Gate>({ summary: "A gate such as 'p99<50ms', 'mismatches=0', 'eventsPerSecond>=5000'; repeatable.", multiple: true, parse: parsedBy(parseGate) })(),
    'max-in-flight': Flags.integer({ summary: 'At --speed max, files published but not yet finished.', default: 256 }),
    keep: Flags.boolean({ summary: 'Keep the namespace, the generated day and the output documents (with --chaos: the worker and Redis logs).' }),
    report: Flags.string({ summary: 'Write a self-contained HTML report of the run here (latency over time, stage lag, faults, gates, mismatches).' }),
    workers: Flags.integer({
      summary: 'Run the consumers in this many `pipeline worker` processes (0: in this process). Default: one per core for days of 50,000 events or more, else 0.',
      min: 0,
      max: 64,
      // A chaos run starts one worker per stage: its faults hit them.
      exclusive: ['chaos'],
    }),
    chaos: Flags.boolean({ summary: 'Inject faults (workers, connections, Redis, poison) on a schedule drawn from --seed; stages run as worker processes.' }),
    'redis-url': redisFlags['redis-url'],
    ...configFlag,
  }

  async run(): Promise<LoadTestResult | ChaosResult> {
    const { flags, raw } = await this.parse(Load)
    if (flags.chaos && raw.some((t) => t.type === 'flag' && t.flag === 'redis-url')) {
      // (PIPELINE_REDIS_URL in the environment is ignored: chaos never touches a server it does not own.)
      throw new EventspineError('E_CHAOS_REDIS', '--chaos cannot run on --redis-url: it pauses, kills and restarts Redis', {
        hint: 'Drop --redis-url: a chaos run starts a redis-server of its own in a temporary folder.',
      })
    }
    if (flags.chaos && flags.partitions !== undefined && flags.partitions > 1) {
      throw new EventspineError('E_FLAG', '--chaos runs one partition: its faults are aimed at one worker per stage', { hint: 'Drop --partitions, or drop --chaos.' })
    }
    const date = flags.date ?? todayIso()
    const { faults } = flags
    const gates = flags.assert ?? []
    const chaosOnly = gates.filter((g) => g.metric.startsWith('chaos.'))
    if (!flags.chaos && chaosOnly.length > 0) {
      throw new EventspineError('E_GATE', `the gate "${chaosOnly[0]?.text}" needs --chaos: only a chaos run injects faults to recover from`, { hint: 'Add --chaos, or drop the gate.' })
    }
    // A chaos run has a Redis of its own and its own Ctrl-C handling; a load run shares yours.
    const interrupt = flags.chaos ? null : abortOnStopSignal((name) => process.stderr.write(`\n${name}: stopping the run and deleting its namespace (again to exit at once)...\n`))
    const run = flags.chaos ? (await import('../sim/chaos/run.js')).chaosTest : (await import('../sim/load-test.js')).loadTest
    const result: LoadTestResult | ChaosResult | null = await run({
      redisUrl: flags['redis-url'],
      dayDir: flags.day,
      generate: { eventsPerDay: flags['events-per-day'], date, seed: flags.seed, faults, kinds: [...FILE_KINDS], providers: flags.providers },
      speed: flags.speed,
      maxInFlight: flags['max-in-flight'],
      ...(flags.workers === undefined ? {} : { workers: flags.workers }),
      ...(flags.partitions === undefined ? {} : { partitions: flags.partitions }),
      gates,
      keep: flags.keep,
      progress: !this.jsonEnabled(),
      source: await openProject(flags.config),
      report: flags.report,
      ...(flags['reference-db'] === undefined ? {} : { referenceDb: flags['reference-db'] }),
      ...(interrupt === null ? {} : { signal: interrupt.signal }),
    })
      .catch((error: unknown) => {
        if (interrupt?.signal.aborted) return null
        throw error
      })
      .finally(() => interrupt?.dispose())
    if (result === null) {
      process.stderr.write(`Interrupted: the run was stopped and its namespace deleted${flags.keep ? ' (--keep: kept)' : ''}.\n`)
      return this.exit(130)
    }
    if (!this.jsonEnabled()) this.log(terminalSafeLines(render(result)))
    if (flags.report !== undefined && !this.jsonEnabled()) this.log(`report: ${terminalSafeLines(flags.report)}`)
    // Not this.exit(1): that would throw before --json prints the report.
    if (result.gatesBroken > 0) process.exitCode = 1
    return result
  }
}

function render(r: LoadTestResult | ChaosResult): string {
  const n = (v: number): string => v.toLocaleString('en-US')
  const l = r.latencyMs
  const lines = [
    `Load ${r.date} seed ${r.seed} at speed ${r.speed}: ${n(r.files)} files, ${n(r.events)} events (manifest: ${n(r.expectedEvents)}${'chaos' in r ? `, plus ${n(r.chaos.poisonEvents)} poison` : ''}) in ${(r.elapsedMs / 1000).toFixed(1)} s`,
    `  throughput   ${n(r.eventsPerSecond)} events/s, ${n(r.filesPerSecond)} files/s (consumers ${r.workers === 0 ? 'in this process' : `in ${r.workers} pipeline worker processes`})`,
    `  latency      p50 ${l.p50} ms, p95 ${l.p95} ms, p99 ${l.p99} ms, max ${l.max} ms (received -> delivered/rejected/duplicate, per file)`,
    `  outcomes     delivered ${n(r.outcomes.delivered)}, rejected ${n(r.outcomes.rejected)}, duplicate ${n(r.outcomes.duplicate)}, missing ${n(r.outcomes.missing)}`,
    `  retries ${n(r.retries)}, dead letters ${n(r.deadLetters)}`,
    `  largest lag  ${Object.entries(r.stageLag).map(([stage, s]) => `${stage} ${n(s.maxLag)}/${n(s.maxPending)}`).join(', ')} (undelivered/pending)`,
    `  mismatches   ${n(r.mismatches)}`,
  ]
  for (const c of r.consumers) {
    lines.push(`  consumer ${c.consumer}: handled ${n(c.handled)} (${n(c.perSecond)}/s), largest lag ${n(c.maxLag)}/${n(c.maxPending)}, retries ${n(c.retries)}, dead letters ${n(c.deadLetters)}`)
  }
  for (const line of r.leftBehind) lines.push(`    left behind: ${line} (counted in mismatches)`)
  if ('chaos' in r) lines.push(...renderChaos(r))
  for (const m of r.mismatchList.slice(0, 20)) lines.push(`    ${m.file} [${m.faults.join(', ') || 'no fault'}]: expected ${describe(m.expected)}, got ${describe(m.actual)}`)
  if (r.mismatches > 20) lines.push(`    ... and ${n(r.mismatches - 20)} more (--json lists up to 200)`)
  if (r.kept) lines.push(`  kept: namespace ${r.namespace}, day ${r.dayDir}, output ${r.outDir}`)
  for (const g of r.gates) lines.push(`  gate ${g.ok ? 'ok    ' : 'BROKEN'} ${g.text} (actual ${g.actual})`)
  if (r.gatesBroken > 0) lines.push(`${r.gatesBroken} gate(s) broken: exit code 1.`)
  return lines.join('\n')
}

function renderChaos(r: ChaosResult): string[] {
  const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`
  const c = r.chaos
  const lines = [`  faults       ${c.injected} injected (seed ${c.seed}), ${c.injected - c.unrecovered} recovered, slowest recovery ${s(c.maxRecoveryMs)}`]
  for (const f of r.faults) {
    const recovered = f.recoveredMs === null ? 'NOT RECOVERED' : `recovered in ${s(f.recoveredMs)}`
    lines.push(`    +${s(f.atMs).padStart(7)}  ${f.kind.padEnd(14)} ${recovered.padEnd(20)} ${f.description}${f.detail === '' ? '' : ` (${f.detail})`}`)
    if (f.missed !== null) lines.push(`${' '.repeat(14)}MISSED: ${f.missed}`)
  }
  lines.push(`  poison       ${c.poisonEvents} events, each dead-lettered by every stage reading its stream`)
  if (c.violations.length > 0) {
    lines.push(`  violations   ${c.violations.length} (counted in mismatches)`)
    for (const v of c.violations.slice(0, 20)) lines.push(`    ${v.kind}: ${v.detail}`)
  }
  if (r.kept) lines.push(`  logs         ${c.logDir}`)
  else if (c.violations.length > 0 || c.unrecovered > 0) lines.push('  (run again with --keep to keep the worker and Redis logs)')
  return lines
}
