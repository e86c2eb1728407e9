/**
 * `npm run bench [-- --events N] [--rounds N] [--json] [--aof] [--only a,b]`: one 7-stage chain run three
 * ways against the same throwaway redis-server, in one process run, so the ratios compare
 * like with like. With several rounds the order alternates and the medians are reported.
 */
import { parseArgs } from 'node:util'
import { runBullmqChain } from './chain/bullmq.js'
import { runEventspineChain } from './chain/eventspine.js'
import { runRawChain, STAGES } from './chain/raw.js'
import { startBenchRedis } from './support/redis.js'

type Name = 'raw' | 'bullmq' | 'eventspine'
type Run = (options: { url: string; events: number }) => Promise<number>

const CONTENDERS: Record<Name, Run> = { raw: runRawChain, bullmq: runBullmqChain, eventspine: runEventspineChain }
const ALL: Name[] = ['raw', 'bullmq', 'eventspine']
const TARGETS = { raw: 0.6, bullmq: 6 } as const

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
    aof: { type: 'boolean', default: false },
    only: { type: 'string', default: 'raw,bullmq,eventspine' },
  },
})
const log = (line: string) => process.stderr.write(`${line}\n`)
const events = positiveInt(values.events, '--events')
const rounds = positiveInt(values.rounds, '--rounds')
const ORDER = contenders(values.only)

const redis = await startBenchRedis({ aof: values.aof })
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void redis.stop().finally(() => process.exit(130)))
}
log(`redis-server on ${redis.url} (appendonly ${values.aof ? 'yes, everysec' : 'no'}); ${events} events x ${STAGES} stages, ${rounds} round(s)`)
const seconds: Record<Name, number[]> = { raw: [], bullmq: [], eventspine: [] }
const failed = new Set<Name>()
try {
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? ORDER : [...ORDER].reverse()
    for (const name of order) {
      if (failed.has(name)) continue
      await redis.flush()
      try {
        const elapsed = await (CONTENDERS[name] as Run)({ url: redis.url, events })
        seconds[name].push(elapsed)
        log(`round ${round + 1} ${name}: ${elapsed.toFixed(2)} s, ${fmt(rate(elapsed))} stage-events/s`)
      } catch (error) {
        failed.add(name)
        log(`${name}: no figure: ${error instanceof Error ? error.message : String(error)}`)
      }
    }
  }
} finally {
  await redis.stop()
}

const elapsed = Object.fromEntries(ALL.map((n) => [n, median(seconds[n])])) as Record<Name, number | null>
const rates = Object.fromEntries(ALL.map((n) => [n, elapsed[n] === null ? null : Math.round(rate(elapsed[n]))])) as Record<Name, number | null>

if (values.json) {
  process.stdout.write(`${JSON.stringify(rates)}\n`)
} else {
  const lines = [`${'contender'.padEnd(12)}${'elapsed s'.padStart(11)}${'stage-events/s'.padStart(16)}`]
  for (const n of ALL) {
    const s = elapsed[n]
    lines.push(`${n.padEnd(12)}${(s === null ? '-' : s.toFixed(2)).padStart(11)}${(s === null ? 'n/a' : fmt(rate(s))).padStart(16)}`)
  }
  lines.push('')
  for (const base of ['raw', 'bullmq'] as const) {
    const es = rates.eventspine
    const other = rates[base]
    const ratio = es === null || other === null ? null : es / other
    const verdict = ratio === null ? 'n/a' : ratio >= TARGETS[base] ? 'PASS' : 'MISS'
    lines.push(`eventspine / ${base.padEnd(7)}${(ratio === null ? '-' : `${ratio.toFixed(2)}x`).padStart(8)}  target >= ${TARGETS[base]}x  ${verdict}`)
  }
  if (rounds > 1) lines.push(`(medians of ${rounds} rounds, order alternating)`)
  process.stdout.write(`${lines.join('\n')}\n`)
}

function rate(elapsedSeconds: number): number {
  return (STAGES * events) / elapsedSeconds
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US')
}

/** `--only eventspine,raw`: a subset, run in that order in the first round (a quick look, not a verdict). */
function contenders(list: string | undefined): Name[] {
  const names = (list ?? '').split(',').map((n) => n.trim()).filter(Boolean)
  const bad = names.filter((n) => !ALL.includes(n as Name))
  if (names.length === 0 || bad.length > 0) {
    log(`--only takes a comma list of ${ALL.join(', ')}; got "${list}"`)
    process.exit(2)
  }
  return names as Name[]
}

function positiveInt(value: string | undefined, flag: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) {
    log(`${flag} must be a positive integer, got "${value}"`)
    process.exit(2)
  }
  return n
}
