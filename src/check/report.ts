import type { CheckReport } from './check.js'
import type { PropertyResult } from './types.js'

/** The exact command that re-runs one failing property from its seed and shrunk path. */
export function reproduceCommand(r: PropertyResult, consumerArg: string, runs: number, extra = ''): string {
  const path = r.counterexample?.path ? ` --path '${r.counterexample.path}'` : ''
  return `pipeline fuzz --consumer ${shellQuote(consumerArg)} --property ${r.property} --seed ${r.seed} --runs ${runs}${extra}${path}`
}

/** A word for a shell command line: as is when plain, else single-quoted. */
export function shellQuote(word: string): string {
  return /^[\w./:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`
}

/** consumer x property table, then each failure as a story with its reproduce command. */
export function renderReport(report: CheckReport, options: { consumerArg: (consumer: string) => string; runs: number; durationMs: number; extraArgs?: string }): string {
  const rows = report.results.map((r) => [r.consumer, r.property, r.passed ? 'pass' : 'FAIL', String(r.runs), String(r.seed), `${(r.durationMs / 1000).toFixed(1)}s`, r.note ?? ''])
  const header = ['consumer', 'property', 'result', 'runs', 'seed', 'time', 'note']
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)))
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()
  const out = [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)]
  const failed = report.results.filter((r) => !r.passed)
  for (const r of failed) {
    out.push('', `FAIL ${r.consumer} / ${r.property} (seed ${r.seed}, after ${r.runs} run(s))`)
    const c = r.counterexample
    if (c) {
      out.push('  events:', ...c.events.map((e) => `    ${e}`))
      out.push('  schedule:', ...c.schedule.map((s) => `    ${s}`))
      if (c.story.length > 0) out.push('  what happened:', ...c.story.map((s) => `    ${s}`))
      out.push('  failure:', ...c.failure.split('\n').map((s) => `    ${s.trim()}`))
    }
    out.push(`  reproduce: ${r.reproduce ?? reproduceCommand(r, options.consumerArg(r.consumer), options.runs, options.extraArgs)}`)
  }
  const warnings = new Map<string, Set<string>>()
  for (const r of report.results) for (const w of r.warnings ?? []) warnings.set(r.consumer, (warnings.get(r.consumer) ?? new Set()).add(w))
  for (const [consumer, list] of warnings) out.push('', `WARN ${consumer} (not a failure):`, ...[...list].map((w) => `  ${w}`))
  const passed = report.results.length - failed.length
  out.push('', `${passed}/${report.results.length} properties hold (seed ${report.seed}, ${(options.durationMs / 1000).toFixed(1)} s).${failed.length > 0 ? ' Exit code 1.' : ''}`)
  return out.join('\n')
}

/** One testcase of a JUnit report. */
export interface JunitCase {
  readonly classname: string
  readonly name: string
  readonly durationMs: number
  readonly failure?: { readonly message: string; readonly body: string }
  readonly systemOut?: string
}

/** The house's JUnit XML writer (fuzz and golden tests): suites of cases, times in seconds. */
export function junitDocument(name: string, suites: readonly { readonly name: string; readonly cases: readonly JunitCase[] }[]): string {
  const body = suites.map((suite) => {
    const failures = suite.cases.filter((c) => c.failure !== undefined).length
    const time = suite.cases.reduce((t, c) => t + c.durationMs, 0) / 1000
    const cases = suite.cases.map((c) => {
      const open = `    <testcase classname="${esc(c.classname)}" name="${esc(c.name)}" time="${(c.durationMs / 1000).toFixed(3)}"`
      if (c.failure === undefined) return `${open}/>`
      const out = c.systemOut === undefined ? '' : `\n      <system-out>${esc(c.systemOut)}</system-out>`
      return `${open}>\n      <failure message="${esc(c.failure.message)}">${esc(c.failure.body)}</failure>${out}\n    </testcase>`
    })
    return `  <testsuite name="${esc(suite.name)}" tests="${suite.cases.length}" failures="${failures}" time="${time.toFixed(3)}">\n${cases.join('\n')}\n  </testsuite>`
  })
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="${esc(name)}">\n${body.join('\n')}\n</testsuites>\n`
}

/** JUnit XML: one testsuite per consumer, one testcase per property. */
export function junitXml(report: CheckReport): string {
  const byConsumer = new Map<string, PropertyResult[]>()
  for (const r of report.results) byConsumer.set(r.consumer, [...(byConsumer.get(r.consumer) ?? []), r])
  const suites = [...byConsumer].map(([consumer, results]) => ({
    name: `fuzz ${consumer}`,
    cases: results.map((r): JunitCase => {
      const base = { classname: `fuzz.${consumer}`, name: r.property, durationMs: r.durationMs }
      if (r.passed) return base
      const c = r.counterexample
      const reproduce = r.reproduce ? [`reproduce: ${r.reproduce}`] : []
      const body = [...(c ? ['events:', ...c.events, 'schedule:', ...c.schedule, 'what happened:', ...c.story, 'failure:', c.failure] : []), ...reproduce].join('\n')
      const message = `seed ${r.seed}: ${c?.failure.split('\n')[0] ?? 'failed'}${r.reproduce ? ` (${reproduce.join('')})` : ''}`
      return { ...base, failure: { message, body }, ...(r.reproduce ? { systemOut: reproduce.join('') } : {}) }
    }),
  }))
  return junitDocument('pipeline fuzz', suites)
}

function esc(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string)
}
