import { EventspineError } from '../errors.js'

/** One `--assert` gate, e.g. `p99<50ms`, `mismatches=0`, `eventsPerSecond>=20000`. */
export interface Gate {
  readonly text: string
  readonly metric: string
  readonly op: '<' | '<=' | '>' | '>=' | '='
  readonly value: number
}

export interface GateResult extends Gate {
  readonly actual: number
  readonly ok: boolean
}

const GATE = /^\s*([A-Za-z][A-Za-z0-9.]*)\s*(<=|>=|<|>|==?)\s*(-?\d+(?:\.\d+)?)\s*(ms|s)?\s*$/

/** Metric names people write, to the report's figure they mean. Latencies are in ms. */
const ALIASES: Readonly<Record<string, string>> = {
  p50: 'latencyMs.p50',
  p95: 'latencyMs.p95',
  p99: 'latencyMs.p99',
  max: 'latencyMs.max',
  latency: 'latencyMs.p99',
  mismatches: 'mismatches',
  deadletters: 'deadLetters',
  retries: 'retries',
  eventspersecond: 'eventsPerSecond',
  throughput: 'eventsPerSecond',
  eps: 'eventsPerSecond',
  elapsed: 'elapsedMs',
  elapsedms: 'elapsedMs',
  missing: 'outcomes.missing',
  unrecovered: 'chaos.unrecovered',
  recovery: 'chaos.maxRecoveryMs',
  maxrecoveryms: 'chaos.maxRecoveryMs',
}

/** Parses `metric op value[unit]`; a unit (ms or s) is only allowed on time metrics. */
export function parseGate(text: string): Gate {
  const match = GATE.exec(text)
  const metric = match === null ? undefined : ALIASES[(match[1] ?? '').toLowerCase()]
  if (match === null || metric === undefined) {
    throw new EventspineError('E_GATE', `cannot read the gate "${text}"`, {
      hint: `Write metric, operator and value, e.g. 'p99<50ms', 'mismatches=0', 'eventsPerSecond>=20000'. Metrics: ${Object.keys(ALIASES).join(', ')}. Operators: < <= > >= =.`,
    })
  }
  const unit = match[4]
  const timed = metric.startsWith('latencyMs.') || metric === 'elapsedMs' || metric === 'chaos.maxRecoveryMs'
  if (unit !== undefined && !timed) throw new EventspineError('E_GATE', `the gate "${text}" puts a time unit on ${match[1]}, which is a count`, { hint: 'Drop the unit.' })
  const op = (match[2] === '==' ? '=' : match[2]) as Gate['op']
  const value = Number(match[3]) * (unit === 's' ? 1000 : 1)
  return { text: text.trim(), metric, op, value }
}

function figure(report: object, path: string): number {
  let at: unknown = report
  for (const part of path.split('.')) at = (at as Record<string, unknown> | undefined)?.[part]
  if (typeof at !== 'number') throw new Error(`the report has no number at ${path}`)
  return at
}

/** Every gate checked against the report. */
export function evaluateGates(report: object, gates: readonly Gate[]): GateResult[] {
  return gates.map((gate) => {
    const actual = figure(report, gate.metric)
    const ok =
      gate.op === '<' ? actual < gate.value : gate.op === '<=' ? actual <= gate.value : gate.op === '>' ? actual > gate.value : gate.op === '>=' ? actual >= gate.value : actual === gate.value
    return { ...gate, actual, ok }
  })
}
