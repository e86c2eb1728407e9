import type { Redis } from 'ioredis'

/** What we need to know about a Redis before trusting it with streams. */
export interface RedisInspection {
  version: string | undefined
  mode: string | undefined
  /** Anything but `noeviction` can silently drop stream entries under memory pressure. */
  maxmemoryPolicy: string | undefined
  maxmemoryBytes: number | undefined
  appendonly: boolean | undefined
  /** From CONFIG GET, which hosted Redis often disables: then undefined. */
  appendfsync: string | undefined
  usedMemoryBytes: number | undefined
  usedMemoryHuman: string | undefined
}

/** Reads INFO (always allowed) and, when permitted, CONFIG GET appendfsync. */
export async function inspectRedis(client: Redis): Promise<RedisInspection> {
  const info = parseInfo(await client.info())
  let appendfsync: string | undefined
  try {
    const reply = (await client.config('GET', 'appendfsync')) as unknown
    if (Array.isArray(reply) && typeof reply[1] === 'string') appendfsync = reply[1]
  } catch {
    appendfsync = undefined // CONFIG renamed or disabled
  }
  const aof = info['aof_enabled']
  return {
    version: info['redis_version'],
    mode: info['redis_mode'],
    maxmemoryPolicy: info['maxmemory_policy'],
    maxmemoryBytes: toNumber(info['maxmemory']),
    appendonly: aof === undefined ? undefined : aof === '1',
    appendfsync,
    usedMemoryBytes: toNumber(info['used_memory']),
    usedMemoryHuman: info['used_memory_human'],
  }
}

/** `key:value` lines of INFO into a map; section headers and blanks are skipped. */
export function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of text.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue
    const colon = line.indexOf(':')
    if (colon > 0) out[line.slice(0, colon)] = line.slice(colon + 1)
  }
  return out
}

function toNumber(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  return Number.isFinite(n) ? n : undefined
}
