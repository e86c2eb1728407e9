import { useEffect, useState } from 'preact/hooks'

/** The console's pages, by URL hash: `#/`, `#/search/<q>`, `#/file/<id>`, `#/dlq/<consumer>`, `#/stream/<type>`. */
export type Route =
  | { readonly page: 'graph' }
  | { readonly page: 'search'; readonly query: string }
  | { readonly page: 'file'; readonly id: string }
  | { readonly page: 'dlq'; readonly consumer: string }
  | { readonly page: 'stream'; readonly type: string }

export function parseRoute(hash: string): Route {
  const [, page, arg] = /^#\/([a-z]*)\/?(.*)$/.exec(hash) ?? []
  const value = decodeURIComponent(arg ?? '')
  if (page === 'search') return { page, query: value }
  if (page === 'file' && value) return { page, id: value }
  if (page === 'dlq' && value) return { page, consumer: value }
  if (page === 'stream' && value) return { page, type: value }
  return { page: 'graph' }
}

export const href = {
  graph: () => '#/',
  search: (q: string) => `#/search/${encodeURIComponent(q)}`,
  file: (id: string) => `#/file/${encodeURIComponent(id)}`,
  dlq: (consumer: string) => `#/dlq/${encodeURIComponent(consumer)}`,
  stream: (type: string) => `#/stream/${encodeURIComponent(type)}`,
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash))
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash))
    addEventListener('hashchange', on)
    return () => removeEventListener('hashchange', on)
  }, [])
  return route
}
