import { useEffect, useState } from 'preact/hooks'
import type { SearchHit, SearchPage } from '../../src/pipeline/console/search.js'
import { getJson } from './api.js'
import { href } from './route.js'

export function SearchBox({ initial }: { initial: string }) {
  const [q, setQ] = useState(initial)
  useEffect(() => setQ(initial), [initial])
  return (
    <form role="search" class="search" onSubmit={(e) => { e.preventDefault(); location.hash = href.search(q.trim()) }}>
      <label for="q">Search</label>
      <input id="q" name="q" type="search" accessKey="s" value={q} placeholder="correlation id, file name or ISIN" onInput={(e) => setQ((e.target as HTMLInputElement).value)} />
      <button type="submit">Find</button>
    </form>
  )
}

export function SearchPageView({ query }: { query: string }) {
  const [hits, setHits] = useState<SearchHit[]>([])
  const [cursor, setCursor] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const load = async (from: string | null) => {
    setBusy(true)
    try {
      const page = await getJson<SearchPage>('/api/search', { q: query, cursor: from })
      setHits((h) => (from === null ? [...page.hits] : [...h, ...page.hits]))
      setCursor(page.cursor)
      setError(null)
    } catch (e) {
      setError(String((e as Error).message))
    } finally {
      setBusy(false)
    }
  }
  useEffect(() => {
    setHits([])
    void load(null)
  }, [query])
  return (
    <section aria-labelledby="search-title">
      <h1 id="search-title">Files matching “{query}”</h1>
      {error && <p role="alert">{error}</p>}
      {hits.length === 0 && !busy && cursor !== null && <p>No match yet in the part of the index searched so far.</p>}
      {hits.length === 0 ? (busy || cursor !== null ? null : <p>No file matches.</p>) : (
        <table class="hits">
          <thead><tr><th scope="col">file</th><th scope="col">status</th><th scope="col">correlation id</th><th scope="col">matched by</th></tr></thead>
          <tbody>
            {hits.map((h) => (
              <tr key={h.correlationId}>
                <td><a href={href.file(h.correlationId)}>{h.fileName ?? '(unnamed)'}</a></td>
                <td>{h.status ?? '–'}</td>
                <td><code>{h.correlationId}</code></td>
                <td>{h.matched}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {cursor !== null && <button type="button" disabled={busy} onClick={() => void load(cursor)}>{busy ? 'Searching…' : 'Search further'}</button>}
    </section>
  )
}
