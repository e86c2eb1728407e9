import { useEffect, useState } from 'preact/hooks'
import type { StreamEntry, StreamPage } from '../../src/pipeline/console/streams.js'
import { getJson } from './api.js'
import { fmtMs, fmtNum } from './format.js'
import { href } from './route.js'

/** One stream: its groups and their oldest pending entries, and its last entries decoded (paged). */
export function StreamPageView({ type }: { type: string }) {
  const [page, setPage] = useState<StreamPage | null>(null)
  const [entries, setEntries] = useState<StreamEntry[]>([])
  const [error, setError] = useState<string | null>(null)
  const load = async (cursor: string | null) => {
    try {
      const p = await getJson<StreamPage>(`/api/streams/${encodeURIComponent(type)}`, { cursor })
      setPage(p)
      setEntries((e) => (cursor === null ? [...p.entries] : [...e, ...p.entries]))
    } catch (e) {
      setError((e as Error).message)
    }
  }
  useEffect(() => void load(null), [type])
  if (error) return <p role="alert">{error}</p>
  if (page === null) return <p aria-busy="true">Loading…</p>
  return (
    <section aria-labelledby="stream-title">
      <h1 id="stream-title">Stream {type} <small>{fmtNum(page.length)} entries</small></h1>
      <h2>Groups</h2>
      {page.groups.length === 0 ? <p>No consumer group reads it yet.</p> : (
        <table>
          <thead><tr><th scope="col">group</th><th scope="col" class="num">instances</th><th scope="col" class="num">lag</th><th scope="col" class="num">pending</th><th scope="col">last delivered</th><th scope="col">oldest pending</th></tr></thead>
          <tbody>
            {page.groups.map((g) => (
              <tr key={g.name}>
                <th scope="row"><a href={href.dlq(g.name)}>{g.name}</a></th>
                <td class="num">{g.consumers}</td>
                <td class="num">{g.lag ?? '?'}</td>
                <td class="num">{fmtNum(g.pending)}</td>
                <td><code>{g.lastDeliveredId}</code></td>
                <td>{g.oldestPending.length === 0 ? 'none' : g.oldestPending.map((p) => `${p.entryId} held by ${p.holder} for ${fmtMs(p.idleMs)}, delivered ${p.deliveries}×`).join('; ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Last entries</h2>
      <table class="entries">
        <thead><tr><th scope="col">entry id</th><th scope="col">source</th><th scope="col">key</th><th scope="col">payload</th><th scope="col">file</th></tr></thead>
        <tbody>
          {entries.map((e) => (
            <tr key={e.entryId}>
              <td><code>{e.entryId}</code></td>
              <td>{e.source}</td>
              <td>{e.key}</td>
              <td>{e.undecodable ?? e.summary}</td>
              <td>{e.correlationId ? <a href={href.file(e.correlationId)}>journey</a> : '–'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {page.cursor !== null && <button type="button" onClick={() => void load(page.cursor)}>Older entries</button>}
    </section>
  )
}
