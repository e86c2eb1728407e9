import type { StageFigures } from './figures.js'

interface Family {
  readonly name: string
  readonly type: 'counter' | 'gauge'
  readonly help: string
  readonly samples: (s: StageFigures) => readonly { labels?: string; value: number | null }[]
}

const FAMILIES: readonly Family[] = [
  { name: 'eventspine_consumer_handled_total', type: 'counter', help: 'Events committed by the consumer (all processes).', samples: (s) => [{ value: s.handled }] },
  { name: 'eventspine_consumer_duplicates_total', type: 'counter', help: 'Redelivered events acknowledged without effect.', samples: (s) => [{ value: s.duplicates }] },
  { name: 'eventspine_consumer_retries_total', type: 'counter', help: 'Failed attempts that were retried.', samples: (s) => [{ value: s.retries }] },
  { name: 'eventspine_consumer_dead_lettered_total', type: 'counter', help: 'Events moved to the dead-letter stream.', samples: (s) => [{ value: s.deadLettered }] },
  { name: 'eventspine_consumer_lag', type: 'gauge', help: 'Entries not yet delivered to the consumer group.', samples: (s) => [{ value: s.lag }] },
  { name: 'eventspine_consumer_pending', type: 'gauge', help: 'Entries delivered but not yet acknowledged.', samples: (s) => [{ value: s.pending }] },
  { name: 'eventspine_consumer_dead_letter_backlog', type: 'gauge', help: 'Entries waiting in the dead-letter stream.', samples: (s) => [{ value: s.deadLetterBacklog }] },
  {
    name: 'eventspine_stage_latency_seconds',
    type: 'gauge',
    help: 'Stage latency (publish of the input event to commit) in this process, by quantile.',
    samples: (s) => [
      { labels: 'quantile="0.5"', value: s.p50Ms === null ? null : s.p50Ms / 1000 },
      { labels: 'quantile="0.99"', value: s.p99Ms === null ? null : s.p99Ms / 1000 },
    ],
  },
]

/** Prometheus text exposition format 0.0.4; one sample per consumer (and quantile). */
export function prometheusText(stages: readonly StageFigures[]): string {
  const lines: string[] = []
  for (const f of FAMILIES) {
    lines.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`)
    for (const s of stages) {
      for (const sample of f.samples(s)) {
        if (sample.value === null) continue
        const labels = [`consumer="${escapeLabel(s.stage)}"`, ...(sample.labels ? [sample.labels] : [])].join(',')
        lines.push(`${f.name}{${labels}} ${sample.value}`)
      }
    }
  }
  return `${lines.join('\n')}\n`
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'
