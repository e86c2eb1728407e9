import { useEffect, useState } from 'preact/hooks'
import type { Trace } from '../../src/pipeline/inspect/trace.js'
import { getJson } from './api.js'
import { DeadLettersPage } from './DeadLetters.js'
import { GraphPage } from './Graph.js'
import { href, useRoute } from './route.js'
import { SearchBox, SearchPageView } from './Search.js'
import { StreamPageView } from './Stream.js'
import { Waterfall } from './Waterfall.js'

function FilePage({ id }: { id: string }) {
  const [trace, setTrace] = useState<Trace | null>(null)
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    setTrace(null)
    getJson<Trace>(`/api/files/${encodeURIComponent(id)}`).then(setTrace, (e: Error) => setError(e.message))
  }, [id])
  if (error) return <p role="alert">{error}</p>
  return trace === null ? <p aria-busy="true">Reading the journey…</p> : <Waterfall trace={trace} />
}

/** The live console `pipeline up` serves: a header with search, and one page per hash route. */
export function App() {
  const route = useRoute()
  const main = (() => {
    switch (route.page) {
      case 'search': return <SearchPageView query={route.query} />
      case 'file': return <FilePage id={route.id} />
      case 'dlq': return <DeadLettersPage consumer={route.consumer} />
      case 'stream': return <StreamPageView type={route.type} />
      default: return <GraphPage />
    }
  })()
  return (
    <>
      <a class="skip" href="#main">Skip to content</a>
      <header class="top">
        <a class="brand" href={href.graph()}>eventspine</a>
        <nav aria-label="main"><a href={href.graph()} aria-current={route.page === 'graph' ? 'page' : undefined}>Graph</a></nav>
        <SearchBox initial={route.page === 'search' ? route.query : ''} />
      </header>
      <main id="main" tabIndex={-1}>{main}</main>
    </>
  )
}
