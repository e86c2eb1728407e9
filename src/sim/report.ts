// `pipeline load --report report.html`: one self-contained HTML file of the run (the console's
// bundle inlined): latency histogram and p50/p99 over time, stage lag and pending, chaos faults
// with their recovery, the gates and the mismatches.
import { writeStaticPage } from '../pipeline/console/page.js'
import type { FaultRecord } from './chaos/controller.js'
import type { LoadTestResult } from './load-test.js'
import { ReportSeries, type LoadSeries } from './report-series.js'

export interface LoadReportData {
  readonly title: string
  /** The run's figures as `--json` has them, without the long lists (those are below). */
  readonly summary: Omit<LoadTestResult, 'mismatchList' | 'gates' | 'consumers' | 'leftBehind'>
  readonly gates: LoadTestResult['gates']
  readonly mismatches: LoadTestResult['mismatchList']
  readonly leftBehind: readonly string[]
  readonly series: LoadSeries
  /** Chaos runs only: each fault, ms after the first file was published, and when it recovered. */
  readonly faults: readonly Pick<FaultRecord, 'kind' | 'stage' | 'description' | 'atMs' | 'faultMs' | 'recoveredMs' | 'missed'>[]
}

export function loadReportData(result: LoadTestResult & { readonly faults?: readonly FaultRecord[] }, series: LoadSeries): LoadReportData {
  const { mismatchList, gates, consumers: _own, leftBehind, ...summary } = result
  const { faults: _faults, ...rest } = summary as typeof summary & { faults?: unknown }
  return {
    title: `Load test ${result.date}, seed ${result.seed}, speed ${result.speed}`,
    summary: rest,
    gates,
    mismatches: mismatchList,
    leftBehind,
    series,
    faults: (result.faults ?? []).map(({ kind, stage, description, atMs, faultMs, recoveredMs, missed }) => ({ kind, stage, description, atMs, faultMs, recoveredMs, missed })),
  }
}

/** Writes the report file; returns its data (tests look at it). */
/** A run's `--report`: the series to record while it runs (none without a path), and the page to write at the end. */
export function loadReporter(path: string | undefined): { readonly series: ReportSeries | undefined; write(result: Parameters<typeof writeLoadReport>[1]): Promise<void> } {
  const series = path === undefined ? undefined : new ReportSeries()
  return {
    series,
    async write(result) {
      if (path !== undefined && series !== undefined) await writeLoadReport(path, result, series.series())
    },
  }
}

export async function writeLoadReport(path: string, result: LoadTestResult & { readonly faults?: readonly FaultRecord[] }, series: LoadSeries): Promise<LoadReportData> {
  const data = loadReportData(result, series)
  await writeStaticPage(path, { kind: 'load-report', data }, data.title)
  return data
}
