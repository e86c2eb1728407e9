/**
 * `npm run bench:cli [-- --runs N] [--json]`: how long `pipeline` takes to start, each run a fresh
 * process of the built CLI, next to a bare `node -e 0` and a bare import of @oclif/core timed in
 * the same rounds (the ratios are what compare across machines and loads). Rounds alternate the
 * order so no contender always follows another. Target: under 300 ms for --version and --help on
 * the 2-core machine. It times the CLI in the current directory, so run from an older checkout
 * it gives the figures before.
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { loadavg } from 'node:os'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'

const BIN = resolve('bin/run.js')
const TARGET_MS = 300

const CONTENDERS: Record<string, readonly string[]> = {
  'node -e 0': ['-e', '0'],
  // The framework's own floor: loading oclif, before it reads a manifest or a command.
  'import @oclif/core': ['--input-type=module', '-e', "await import('@oclif/core')"],
  'pipeline --version': [BIN, '--version'],
  'pipeline --help': [BIN, '--help'],
  'pipeline status --help': [BIN, 'status', '--help'],
}
const NAMES = Object.keys(CONTENDERS)
const BASELINE = 'node -e 0'

const { values } = parseArgs({ options: { runs: { type: 'string', default: '11' }, json: { type: 'boolean', default: false } } })
const log = (line: string) => process.stderr.write(`${line}\n`)
const runs = Number(values.runs)
if (!Number.isInteger(runs) || runs < 1) {
  log(`--runs must be a positive integer, got "${values.runs}"`)
  process.exit(2)
}
if (!existsSync(resolve('dist/commands'))) {
  log('the built CLI is missing: run `npm run build` first (it writes dist/ and oclif.manifest.json).')
  process.exit(2)
}
// Run from an older checkout, this measures the slow path: without it oclif loads every command.
if (!existsSync(resolve('oclif.manifest.json'))) log('no oclif.manifest.json here: oclif will import every command to list them.')

// A child of tsx would otherwise inherit nothing of tsx but the environment: keep only what node needs.
const env = { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '' }
const load = () => Math.round((loadavg()[0] ?? 0) * 10) / 10
const loadBefore = load()
log(`${runs} runs per contender, each a fresh process; load average ${loadBefore}`)

const samples: Record<string, number[]> = Object.fromEntries(NAMES.map((n) => [n, []]))
for (let round = 0; round < runs; round++) {
  for (const name of round % 2 === 0 ? NAMES : [...NAMES].reverse()) {
    const started = performance.now()
    const run = spawnSync(process.execPath, CONTENDERS[name] as string[], { env, stdio: ['ignore', 'ignore', 'pipe'] })
    const ms = performance.now() - started
    if (run.status !== 0) {
      log(`${name} exited ${run.status ?? run.signal}: ${run.stderr.toString().trim()}`)
      process.exit(1)
    }
    ;(samples[name] as number[]).push(ms)
  }
}
const loadAfter = load()

const medians = Object.fromEntries(NAMES.map((n) => [n, median(samples[n] as number[])])) as Record<string, number>
const base = medians[BASELINE] as number
if (values.json) {
  const figures = Object.fromEntries(NAMES.map((n) => [n, { medianMs: round1(medians[n] as number), ratio: round1((medians[n] as number) / base) }]))
  process.stdout.write(`${JSON.stringify({ runs, loadAverage: [loadBefore, loadAfter], figures })}\n`)
} else {
  const lines = [`${'contender'.padEnd(24)}${'median ms'.padStart(10)}${'min ms'.padStart(8)}${'x node'.padStart(8)}`]
  for (const n of NAMES) {
    const m = medians[n] as number
    const verdict = n.startsWith('pipeline') ? `  target < ${TARGET_MS} ms  ${m < TARGET_MS ? 'PASS' : 'MISS'}` : ''
    lines.push(`${n.padEnd(24)}${m.toFixed(0).padStart(10)}${Math.min(...(samples[n] as number[])).toFixed(0).padStart(8)}${`${(m / base).toFixed(1)}x`.padStart(8)}${verdict}`)
  }
  lines.push('', `(medians of ${runs} runs, order alternating; load average ${loadBefore} before, ${loadAfter} after)`)
  process.stdout.write(`${lines.join('\n')}\n`)
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2
}

function round1(n: number): number {
  return Math.round(n * 10) / 10
}
