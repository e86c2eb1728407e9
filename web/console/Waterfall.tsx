import type { Trace, TraceNode } from '../../src/pipeline/inspect/trace.js'
import { fmtMs } from './format.js'

interface Row {
  readonly node: TraceNode
  readonly depth: number
  /** When the hop's cause was appended (ms since the first event): where its bar starts. */
  readonly from: number
  readonly to: number
}

/** Depth-first along the causation tree: each hop under its cause, in the order they were appended. */
function rows(trace: Trace): Row[] {
  const start = trace.startedAt === null ? 0 : Date.parse(trace.startedAt)
  const out: Row[] = []
  const walk = (node: TraceNode, depth: number, causeAt: number) => {
    const at = Date.parse(node.at) - start
    const from = node.kind === 'event' && node.latencyMs !== null ? at - node.latencyMs : node.kind === 'dead-letter' ? causeAt : at
    out.push({ node, depth, from, to: at })
    for (const child of node.children) walk(child, depth + 1, at)
  }
  for (const root of trace.roots) walk(root, 0, 0)
  return out
}

function label(node: TraceNode): string {
  return node.kind === 'event' ? node.type : `✖ dead letter in ${node.consumer}`
}

/** A file's journey as a waterfall: one row per hop, a bar from its cause to it, what is still awaited below. */
export function Waterfall({ trace }: { trace: Trace }) {
  const all = rows(trace)
  const total = Math.max(trace.elapsedMs, 1)
  const pct = (ms: number) => `${Math.min(100, Math.max(0, (ms / total) * 100)).toFixed(2)}%`
  return (
    <section class="waterfall" aria-labelledby="wf-title">
      <h1 id="wf-title">{trace.fileName ?? trace.correlationId}</h1>
      <dl class="facts">
        <dt>correlation id</dt><dd><code>{trace.correlationId}</code></dd>
        <dt>status</dt><dd data-status={trace.status}>{trace.status}{trace.outcome ? ` (${trace.outcome})` : ''}</dd>
        <dt>elapsed</dt><dd>{fmtMs(trace.elapsedMs)} from first to last hop</dd>
        <dt>events</dt><dd>{trace.events}, dead letters {trace.deadLetters}</dd>
      </dl>
      <table class="hops">
        <caption>Hops, each under its cause; the bar runs from the cause's append to this one's (per-hop latency).</caption>
        <thead><tr><th scope="col">hop</th><th scope="col">by</th><th scope="col" class="num">+ at</th><th scope="col" class="num">hop latency</th><th scope="col" class="timeline">timeline (0 – {fmtMs(trace.elapsedMs)})</th></tr></thead>
        <tbody>
          {all.map(({ node, depth, from, to }) => (
            <tr key={node.entryId + node.kind} class={`hop ${node.kind}`} data-type={node.kind === 'event' ? node.type : 'dead-letter'}>
              <th scope="row" style={{ paddingLeft: `${0.4 + depth * 1.1}em` }}>
                {depth > 0 ? '└ ' : ''}{label(node)}
                {node.kind === 'event' && node.summary ? <div class="summary">{node.summary}</div> : null}
                {node.kind === 'event' && node.reasons.length > 0 ? <ul class="reasons">{node.reasons.map((r, i) => <li key={i}>{r.rule}: {r.message}{r.row === undefined ? '' : ` (row ${r.row}${r.column ? `, ${r.column}` : ''})`}</li>)}</ul> : null}
                {node.kind === 'dead-letter' ? <div class="summary">{node.error}{node.attempts === null ? '' : ` after ${node.attempts} attempt${node.attempts === 1 ? '' : 's'}`}{node.removed ? ' (since re-delivered or purged)' : ''}</div> : null}
              </th>
              <td>{node.kind === 'event' ? node.source : node.consumer}</td>
              <td class="num">{fmtMs(to)}</td>
              <td class="num">{node.kind === 'event' ? fmtMs(node.latencyMs) : '–'}</td>
              <td class="timeline">
                <div class="track" aria-hidden="true">
                  <div class={`bar ${node.kind}`} style={{ left: pct(from), width: `max(3px, ${pct(Math.max(0, to - from))})` }} />
                </div>
              </td>
            </tr>
          ))}
          {trace.awaited.map((a) => (
            <tr key={`awaited-${a.consumer}`} class="hop awaited" data-type="awaited">
              <th scope="row">⏳ awaited: {a.consumer}</th>
              <td colSpan={4}>
                {a.state}{a.failedAttempts > 0 ? `, ${a.failedAttempts} failed attempts` : ''}; may emit {a.types.join(' or ') || 'nothing'}
                {a.needs.length > 0 ? `; needs ${a.needs.join(', ')}` : ''}
                {a.paused ? `; paused: ${a.paused.lastError}` : ''}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}
