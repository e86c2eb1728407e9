// The console's calls to `up`'s API. The token comes from the URL `up` printed, is kept for the
// tab (sessionStorage) and removed from the address bar; it rides only in a custom header.
const TOKEN_HEADER = 'x-eventspine-token'

function takeToken(): string | null {
  const params = new URLSearchParams(location.search)
  const fromUrl = params.get('token')
  if (fromUrl !== null) {
    sessionStorage.setItem('eventspine-token', fromUrl)
    params.delete('token')
    const rest = params.toString()
    history.replaceState(null, '', `${location.pathname}${rest ? `?${rest}` : ''}${location.hash}`)
  }
  return sessionStorage.getItem('eventspine-token')
}

const token = typeof location !== 'undefined' && location.protocol.startsWith('http') ? takeToken() : null

export function hasToken(): boolean {
  return token !== null
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

async function reply<T>(res: Response): Promise<T> {
  const body = (await res.json().catch(() => ({}))) as { message?: string; error?: string }
  if (!res.ok) throw new ApiError(res.status, body.message ?? body.error ?? `HTTP ${res.status}`)
  return body as T
}

export async function getJson<T>(path: string, params: Record<string, string | null | undefined> = {}): Promise<T> {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== '') q.set(k, v)
  const s = q.toString()
  return reply<T>(await fetch(`${path}${s ? `?${s}` : ''}`, { headers: { accept: 'application/json' } }))
}

export async function postJson<T>(path: string, body: unknown): Promise<T> {
  return reply<T>(
    await fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token === null ? {} : { [TOKEN_HEADER]: token }) },
      body: JSON.stringify(body),
    }),
  )
}
