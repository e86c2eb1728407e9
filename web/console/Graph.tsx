import { useEffect, useState } from 'preact/hooks'
import type { GraphConsumer, PipelineGraph } from '../../src/pipeline/console/graph.js'
import { getJson } from './api.js'
import { href } from './route.js'
import { fmtMs, fmtNum, fmtRate } from './format.js'

/** The graph now, then every snapshot over server-sent events (the browser reconnects by itself). */
function useGraph(): PipelineGraph | null {
  const [graph, setGraph] = useState<PipelineGraph | null>(null)
  useEffect(() => {
    void getJson<PipelineGraph>('/api/graph').then(setGraph, () => {})
    const source = new EventSource('/api/live')
    source.addEventListener('graph', (e) => setGraph(JSON.parse((e as MessageEvent<string>).data) as PipelineGraph))
    return () => source.close()
  }, [])
  return graph
}

interface Placed {
  readonly id: string
  readonly kind: 'stream' | 'consumer'
  readonly label: string
  readonly x: number
  readonly y: number
  readonly w: number
  readonly h: number
}

const COL = 190
const GAP = 34
const CW = 168
const CH = 74
const SH = 30

/** Columns by depth from the intake: streams and consumers alternate left to right. */
export function layout(graph: PipelineGraph): { nodes: Placed[]; edges: [string, string][]; width: number; height: number } {
  const rank = new Map<string, number>()
  for (const s of graph.streams) rank.set(`s:${s.type}`, 0)
  for (let round = 0; round < graph.consumers.length + graph.streams.length; round++) {
    let changed = false
    for (const c of graph.consumers) {
      const r = 1 + Math.max(0, ...c.subscribes.map((t) => rank.get(`s:${t}`) ?? 0))
      if (rank.get(`c:${c.name}`) !== r) {
        rank.set(`c:${c.name}`, r)
        changed = true
      }
    }
    for (const s of graph.streams) {
      const producers = s.producers.filter((p) => p !== 'intake')
      // Capped: a cycle among a team's consumers must not push columns out for ever.
      const r = Math.min(producers.length === 0 ? 0 : 1 + Math.max(...producers.map((p) => rank.get(`c:${p}`) ?? 0)), 2 * graph.consumers.length + 2)
      if (rank.get(`s:${s.type}`) !== r) {
        rank.set(`s:${s.type}`, r)
        changed = true
      }
    }
    if (!changed) break
  }
  // Top to bottom, one row per depth (streams and consumers alternate), each row centred.
  const rows = new Map<number, string[]>()
  for (const [id, r] of rank) rows.set(r, [...(rows.get(r) ?? []), id])
  const widest = Math.max(1, ...[...rows.values()].map((ids) => ids.length))
  const depths = [...rows.keys()].sort((a, b) => a - b)
  const nodes: Placed[] = []
  let y = 10
  for (const r of depths) {
    const ids = rows.get(r) as string[]
    const kind = (ids[0] ?? '').startsWith('c:') ? 'consumer' : 'stream'
    const h = kind === 'consumer' ? CH : SH
    const offset = ((widest - ids.length) * COL) / 2
    ids.forEach((id, i) => nodes.push({ id, kind: id.startsWith('c:') ? 'consumer' : 'stream', label: id.slice(2), x: 10 + offset + i * COL, y, w: CW, h }))
    y += h + GAP
  }
  const edges: [string, string][] = []
  for (const c of graph.consumers) {
    for (const t of c.subscribes) edges.push([`s:${t}`, `c:${c.name}`])
    for (const t of c.emits) edges.push([`c:${c.name}`, `s:${t}`])
  }
  const width = Math.max(...nodes.map((n) => n.x + n.w), 200) + 10
  const height = Math.max(...nodes.map((n) => n.y + n.h), 100) + 10
  return { nodes, edges, width, height }
}

function figureLines(c: GraphConsumer | undefined): [string, string] {
  const f = c?.figures
  if (!f) return ['no figures yet', '']
  return [`${fmtRate(f.perSecond)}  lag ${f.lag ?? '?'}  pend ${f.pending}`, `retry ${fmtNum(f.retries)}  dead ${fmtNum(f.deadLetterBacklog)}${f.breaker?.open ? '  PAUSED' : ''}`]
}

function GraphPicture({ graph }: { graph: PipelineGraph }) {
  const { nodes, edges, width, height } = layout(graph)
  const at = new Map(nodes.map((n) => [n.id, n]))
  const byName = new Map(graph.consumers.map((c) => [c.name, c]))
  return (
    <div class="graph-scroll">
      <svg class="graph" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label="Pipeline graph: streams and consumers">
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" />
          </marker>
        </defs>
        {edges.map(([from, to]) => {
          const a = at.get(from)
          const b = at.get(to)
          if (!a || !b) return null
          const x1 = a.x + a.w / 2
          const y1 = a.y + a.h
          const x2 = b.x + b.w / 2
          const y2 = b.y
          // An edge back up (a team's cycle) leaves from the side and loops round.
          const d = y2 <= y1 ? `M ${a.x + a.w} ${a.y + a.h / 2} C ${a.x + a.w + 80} ${a.y}, ${b.x + b.w + 80} ${b.y + b.h}, ${b.x + b.w} ${b.y + b.h / 2}` : `M ${x1} ${y1} C ${x1} ${(y1 + y2) / 2}, ${x2} ${(y1 + y2) / 2}, ${x2} ${y2}`
          // A projection that reads nearly everything (file-journey) would hide the flow: its edges stay faint.
          const fan = (byName.get(to.slice(2))?.subscribes.length ?? 0) > 4
          return <path key={`${from}>${to}`} class={fan ? 'edge faint' : 'edge'} d={d} marker-end="url(#arrow)" />
        })}
        {nodes.map((n) => {
          if (n.kind === 'stream') {
            return (
              <a key={n.id} href={href.stream(n.label)} class="node stream" aria-label={`stream ${n.label}`}>
                <rect x={n.x} y={n.y} width={n.w} height={n.h} rx={15} />
                <text x={n.x + n.w / 2} y={n.y + n.h / 2 + 4} text-anchor="middle">{shortType(n.label)}</text>
              </a>
            )
          }
          const c = byName.get(n.label)
          const [l1, l2] = figureLines(c)
          const trouble = (c?.figures?.deadLetterBacklog ?? 0) > 0 || c?.figures?.breaker?.open === true
          return (
            <a key={n.id} href={href.dlq(n.label)} class={`node consumer${trouble ? ' trouble' : ''}`} data-consumer={n.label} aria-label={`consumer ${n.label}: ${l1}, ${l2}`}>
              <rect x={n.x} y={n.y} width={n.w} height={n.h} rx={4} />
              <text x={n.x + 8} y={n.y + 20} class="name">{trouble ? '⚠ ' : ''}{n.label}</text>
              <text x={n.x + 8} y={n.y + 42} class="fig">{l1}</text>
              <text x={n.x + 8} y={n.y + 60} class="fig">{l2}</text>
            </a>
          )
        })}
      </svg>
    </div>
  )
}

/** `pipeline.file.delivered` reads as `file.delivered` in a box. */
function shortType(type: string): string {
  const t = type.replace(/^pipeline\./, '')
  return t.length > 24 ? `${t.slice(0, 23)}…` : t
}

export function GraphPage() {
  const graph = useGraph()
  if (graph === null) return <p aria-busy="true">Loading the pipeline…</p>
  return (
    <section aria-labelledby="graph-title">
      <h1 id="graph-title">Pipeline <small>namespace {graph.namespace}, updated {new Date(graph.at).toLocaleTimeString()}</small></h1>
      <GraphPicture graph={graph} />
      <h2>Consumers</h2>
      <table class="consumers">
        <thead>
          <tr><th scope="col">consumer</th><th scope="col">reads</th><th scope="col" class="num">rate</th><th scope="col" class="num">lag</th><th scope="col" class="num">pending</th><th scope="col" class="num">retries</th><th scope="col" class="num">dead letters</th><th scope="col" class="num">p50 / p99</th><th scope="col">state</th></tr>
        </thead>
        <tbody>
          {graph.consumers.map((c) => {
            const f = c.figures
            return (
              <tr key={c.name} data-consumer={c.name}>
                <th scope="row">{c.name}</th>
                <td>{c.subscribes.map((t, i) => <span key={t}>{i > 0 ? ', ' : ''}<a href={href.stream(t)}>{shortType(t)}</a></span>)}</td>
                <td class="num">{fmtRate(f?.perSecond ?? null)}</td>
                <td class="num">{f ? (f.lag ?? '?') : '–'}</td>
                <td class="num">{f ? fmtNum(f.pending) : '–'}</td>
                <td class="num">{f ? fmtNum(f.retries) : '–'}</td>
                <td class="num"><a href={href.dlq(c.name)}>{f ? fmtNum(f.deadLetterBacklog) : '–'}</a></td>
                <td class="num">{fmtMs(f?.p50Ms ?? null)} / {fmtMs(f?.p99Ms ?? null)}</td>
                <td>{f?.breaker?.open ? `paused: ${f.breaker.lastError}` : 'running'}</td>
              </tr>
            )
          })}
        </tbody>
      </table>
      <h2>Latest files</h2>
      {graph.recent.length === 0 ? <p>No file has finished yet.</p> : (
        <table class="recent">
          <thead><tr><th scope="col">at</th><th scope="col">file</th><th scope="col">outcome</th><th scope="col">detail</th></tr></thead>
          <tbody>
            {graph.recent.map((r) => (
              <tr key={r.correlationId}>
                <td>{new Date(r.at).toLocaleTimeString()}</td>
                <td><a href={href.file(r.correlationId)}>{r.fileName}</a></td>
                <td>{r.outcome}</td>
                <td>{r.detail}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {graph.warnings.length > 0 && (
        <>
          <h2>Warnings</h2>
          <ul>{graph.warnings.map((w, i) => <li key={i}>{w}</li>)}</ul>
        </>
      )}
    </section>
  )
}
