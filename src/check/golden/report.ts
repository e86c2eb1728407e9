import { junitDocument, type JunitCase } from '../report.js'
import type { GoldenReport } from './cases.js'

/** `1.2 ms`: cases run in milliseconds, so a tenth is worth showing. */
function ms(value: number): string {
  return `${value.toFixed(1)} ms`
}

/** One line per case, each failure with its diff indented under it, then the summary. */
export function renderGolden(report: GoldenReport): string {
  const out: string[] = []
  for (const r of report.results) {
    out.push(`${r.passed ? 'pass' : 'FAIL'}  ${r.file} > ${r.consumer} > ${r.name}  (${ms(r.durationMs)})`)
    if (r.failure !== null) out.push(...r.failure.split('\n').map((line) => (line === '' ? '' : `      ${line}`)), '')
  }
  const failed = report.results.filter((r) => !r.passed).length
  if (out.at(-1) !== '') out.push('')
  const summary = `${report.results.length - failed}/${report.results.length} cases pass in ${ms(report.durationMs)}, no Redis (project and contracts loaded in ${ms(report.setupMs)}).`
  out.push(`${summary}${failed > 0 ? ` ${failed} failed: exit code 1.` : ''}`)
  return out.join('\n')
}

/** JUnit XML: one testsuite per case file, one testcase per case. */
export function goldenJunit(report: GoldenReport): string {
  const byFile = new Map<string, JunitCase[]>()
  for (const r of report.results) {
    const testcase: JunitCase = {
      classname: `golden.${r.consumer}`,
      name: r.name,
      durationMs: r.durationMs,
      ...(r.failure === null ? {} : { failure: { message: firstChange(r.failure), body: r.failure } }),
    }
    byFile.set(r.file, [...(byFile.get(r.file) ?? []), testcase])
  }
  return junitDocument('pipeline test', [...byFile].map(([file, cases]) => ({ name: file, cases })))
}

/** A diff's first change, `expected X, actual Y` (after its legend), else the failure's first line. */
function firstChange(failure: string): string {
  const lines = failure.split('\n')
  const at = lines.findIndex((l, i) => i >= 2 && /^[-+] /.test(l))
  if (lines[0] !== '- expected' || at < 0) return lines[0] ?? 'failed'
  const text = (l: string | undefined) => (l ?? '').slice(2).trim()
  const first = lines[at] as string
  const next = lines[at + 1]
  if (first.startsWith('-') && next?.startsWith('+ ')) return `expected ${text(first)}, actual ${text(next)}`
  return `${first.startsWith('-') ? 'expected' : 'actual'} ${text(first)}`
}
