import { render } from 'preact'
import 'uplot/dist/uPlot.min.css'
import './style.css'
import type { Trace } from '../../src/pipeline/inspect/trace.js'
import { App } from './App.js'
import { LoadReportView, type LoadReportData } from './Report.js'
import { Waterfall } from './Waterfall.js'

type Embedded = { kind: 'load-report'; data: LoadReportData } | { kind: 'trace'; data: Trace }

// A self-contained file (load --report, trace --html) carries its data; the live console has none.
const embedded = document.getElementById('eventspine-data')
const root = document.getElementById('app') as HTMLElement
if (embedded?.textContent) {
  const view = JSON.parse(embedded.textContent) as Embedded
  render(view.kind === 'trace' ? <main id="main"><Waterfall trace={view.data} /></main> : <LoadReportView report={view.data} />, root)
} else {
  render(<App />, root)
}
