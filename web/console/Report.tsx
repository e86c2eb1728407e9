import { useEffect, useRef } from 'preact/hooks'
import uPlot from 'uplot'
import type { LoadReportData } from '../../src/sim/report.js'
import { fmtMs, fmtNum } from './format.js'

export type { LoadReportData }

/** Distinct by dash as well as hue: the charts read on a grey printout too. */
const STYLES: { stroke: string; dash?: number[] }[] = [
  { stroke: '#1f5fbf' },
  { stroke: '#c0392b', dash: [8, 4] },
  { stroke: '#2e7d32', dash: [2, 3] },
  { stroke: '#8e44ad', dash: [10, 3, 2, 3] },
  { stroke: '#b7791f' },
  { stroke: '#00796b', dash: [8, 4] },
  { stroke: '#5d4037', dash: [2, 3] },
  { stroke: '#455a64', dash: [10, 3, 2, 3] },
  { stroke: '#ad1457' },
]

type Fault = LoadReportData['faults'][number]

/** `outcome=rejected stage=validate rules=nav-jump`: an expected or actual outcome on one line. */
function brief(o: object): string {
  return Object.entries(o).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : String(v)}`).join(' ')
}

/** Draws each chaos fault as a line at its injection and a hatched band until it recovered. */
function faultPlugin(faults: readonly Fault[]): uPlot.Plugin {
  return {
    hooks: {
      draw: (u) => {
        const ctx = u.ctx
        const { left, top, width, height } = u.bbox
        ctx.save()
        // Only inside the plot: a fault before the first point must not paint over the axis.
        ctx.beginPath()
        ctx.rect(left, top, width, height)
        ctx.clip()
        faults.forEach((f, i) => {
          const x0 = u.valToPos(f.atMs / 1000, 'x', true)
          // Never recovered: the band runs to the end of the chart.
          const x1 = f.recoveredMs === null ? left + width : u.valToPos((f.atMs + f.recoveredMs) / 1000, 'x', true)
          ctx.fillStyle = 'rgba(192, 57, 43, 0.07)'
          ctx.fillRect(x0, top, Math.max(2, x1 - x0), height)
          ctx.strokeStyle = '#c0392b'
          ctx.setLineDash([4, 3])
          ctx.beginPath()
          ctx.moveTo(x0, top)
          ctx.lineTo(x0, top + height)
          ctx.stroke()
          ctx.setLineDash([])
          ctx.fillStyle = '#7b1f16'
          ctx.font = `${11 * devicePixelRatio}px sans-serif`
          ctx.textAlign = 'left'
          ctx.textBaseline = 'alphabetic'
          // Numbered as in the faults table, and staggered over three lines: faults come in bursts.
          ctx.fillText(`⚡${i + 1} ${f.kind}${f.recoveredMs === null ? ' (not recovered)' : ''}`, x0 + 3, top + (12 + (i % 3) * 13) * devicePixelRatio)
        })
        ctx.restore()
      },
    },
  }
}

function Chart({ title, data, series, faults = [], yLabel, bars = false, xValues }: {
  title: string
  data: uPlot.AlignedData
  series: uPlot.Series[]
  faults?: readonly Fault[]
  yLabel: string
  bars?: boolean
  xValues?: (u: uPlot, splits: number[]) => string[]
}) {
  const ref = useRef<HTMLDivElement>(null)
  useEffect(() => {
    const el = ref.current
    if (!el) return
    const plot = new uPlot(
      {
        title,
        width: Math.min(1100, Math.max(480, el.clientWidth || 900)),
        height: 280,
        // Time charts start at the first publish and reach past the last fault's recovery.
        scales: { x: bars ? { time: false, range: (_u, min, max) => [min - 0.5, max + 0.5] } : { time: false, range: (_u, _min, max) => [0, Math.max(max, ...faults.map((f) => (f.atMs + (f.recoveredMs ?? f.faultMs)) / 1000))] } },
        axes: [{ label: bars ? 'latency (at most)' : 'seconds since the first file', ...(xValues ? { values: xValues } : {}) }, { label: yLabel }],
        series: [{ label: bars ? 'bucket' : 'seconds' }, ...series],
        plugins: faults.length > 0 ? [faultPlugin(faults)] : [],
      },
      data,
      el,
    )
    return () => plot.destroy()
  }, [data])
  return <figure class="chart" ref={ref} aria-label={title} />
}

/** The self-contained report of `pipeline load --report`. */
export function LoadReportView({ report }: { report: LoadReportData }) {
  const s = report.summary
  const { latency, histogram, stages } = report.series
  const styled = (label: string, i: number, extra: Partial<uPlot.Series> = {}): uPlot.Series => ({ label, width: 2, spanGaps: true, ...STYLES[i % STYLES.length], ...extra })
  const bars = uPlot.paths.bars ? uPlot.paths.bars({ size: [0.8, 60] }) : undefined
  return (
    <main id="main" class="report">
      <h1>{report.title}</h1>
      <dl class="facts">
        <dt>files</dt><dd>{fmtNum(s.files)} ({s.outcomes.delivered} delivered, {s.outcomes.rejected} rejected, {s.outcomes.duplicate} duplicates, {s.outcomes.missing} missing)</dd>
        <dt>throughput</dt><dd>{fmtNum(s.eventsPerSecond)} events/s, {fmtNum(s.filesPerSecond)} files/s over {fmtMs(s.elapsedMs)}</dd>
        <dt>file latency</dt><dd>p50 {fmtMs(s.latencyMs.p50)}, p95 {fmtMs(s.latencyMs.p95)}, p99 {fmtMs(s.latencyMs.p99)}, max {fmtMs(s.latencyMs.max)}</dd>
        <dt>retries, dead letters</dt><dd>{fmtNum(s.retries)}, {fmtNum(s.deadLetters)}</dd>
        <dt>mismatches</dt><dd>{fmtNum(s.mismatches)}</dd>
      </dl>

      <h2>Gates</h2>
      {report.gates.length === 0 ? <p>No gates were given (--assert).</p> : (
        <table class="gates">
          <thead><tr><th scope="col">gate</th><th scope="col" class="num">actual</th><th scope="col">result</th></tr></thead>
          <tbody>{report.gates.map((g) => <tr key={g.text}><td><code>{g.text}</code></td><td class="num">{g.actual}</td><td>{g.ok ? '✔ pass' : '✖ FAIL'}</td></tr>)}</tbody>
        </table>
      )}

      <h2>File latency</h2>
      <Chart
        title="Files per latency bucket"
        yLabel="files"
        bars
        data={[histogram.upperMs.map((_, i) => i), histogram.counts]}
        series={[styled('files', 0, { fill: 'rgba(31, 95, 191, 0.35)', ...(bars ? { paths: bars } : {}), points: { show: false } })]}
        xValues={(_u, splits) => splits.map((i) => (Number.isInteger(i) && histogram.upperMs[i] !== undefined ? `≤${fmtMs(histogram.upperMs[i])}` : ''))}
      />
      <Chart title="File latency over time (by when files ended)" yLabel="ms" faults={report.faults} data={[latency.t, latency.p50, latency.p99]} series={[styled('p50', 0), styled('p99', 1)]} />

      <h2>Stages</h2>
      <Chart title="Lag per stage (entries not yet delivered)" yLabel="entries" faults={report.faults} data={[stages.t, ...stages.lag]} series={stages.names.map((n, i) => styled(n, i))} />
      <Chart title="Pending per stage (delivered, not yet acknowledged)" yLabel="entries" faults={report.faults} data={[stages.t, ...stages.pending]} series={stages.names.map((n, i) => styled(n, i))} />

      <h2>Chaos faults</h2>
      {report.faults.length === 0 ? <p>None: this was not a --chaos run.</p> : (
        <table class="faults">
          <thead><tr><th scope="col" class="num">#</th><th scope="col" class="num">at</th><th scope="col">fault</th><th scope="col">stage</th><th scope="col" class="num">lasted</th><th scope="col" class="num">recovered after</th></tr></thead>
          <tbody>
            {report.faults.map((f, i) => (
              <tr key={i}>
                <td class="num">⚡{i + 1}</td>
                <td class="num">+{fmtMs(f.atMs)}</td>
                <td>{f.description}{f.missed ? ` (missed: ${f.missed})` : ''}</td>
                <td>{f.stage ?? 'all'}</td>
                <td class="num">{fmtMs(f.faultMs)}</td>
                <td class="num">{f.recoveredMs === null ? '✖ not recovered' : fmtMs(f.recoveredMs)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h2>Mismatches</h2>
      {report.mismatches.length === 0 && report.leftBehind.length === 0 ? <p>✔ None: every file ended as the manifest expects.</p> : (
        <table class="mismatches">
          <thead><tr><th scope="col">file</th><th scope="col">faults</th><th scope="col">expected</th><th scope="col">actual</th><th scope="col">why</th></tr></thead>
          <tbody>
            {report.mismatches.map((m, i) => (
              <tr key={i}>
                <td>{m.file}</td>
                <td>{m.faults.join(', ') || '–'}</td>
                <td>{brief(m.expected)}</td>
                <td>{brief(m.actual)}</td>
                <td>{m.why}</td>
              </tr>
            ))}
            {report.leftBehind.map((l, i) => <tr key={`l${i}`}><td colSpan={5}>{l}</td></tr>)}
          </tbody>
        </table>
      )}
      {s.mismatches > report.mismatches.length + report.leftBehind.length && <p>The first {report.mismatches.length} of {s.mismatches} are listed.</p>}
    </main>
  )
}
