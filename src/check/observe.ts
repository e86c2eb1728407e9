import { escapeGlob } from '../bus/keys.js'
import { scanAll as scanKeys } from '../redis/index.js'
import type { ConsumerDefinition } from '../bus/types.js'
import { decodeEvent } from '../events/envelope.js'
import type { Driver } from './driver.js'

/** What a consumer did, as the harness compares it: ids, times and Redis entry ids left out. */
export interface Observation {
  /** The consumer's own Redis keys (name after its state prefix -> value). */
  readonly state: Readonly<Record<string, unknown>>
  /** Emitted events per type, sorted canonically (which input caused each is left out: arrival order across streams may differ). */
  readonly emitted: Readonly<Record<string, readonly string[]>>
  /** Emitted events per type in stream order: the input that caused each, and that input's stream and ordering key. */
  readonly emittedOrder: Readonly<Record<string, readonly { cause: string; key: string }[]>>
  /** What `inspect()` returned (state kept outside Redis). */
  readonly inspect: unknown
}

/** A warning when the types a consumer emitted and the `emits` it declares differ (not a failure: `emits` is for the catalog). */
export function emitsMismatch(consumer: ConsumerDefinition, obs: Observation): string | undefined {
  const declared = new Set(consumer.emits ?? [])
  const undeclared = Object.keys(obs.emitted).filter((t) => !declared.has(t))
  if (undeclared.length === 0) return undefined
  return `${consumer.name} emitted ${undeclared.join(', ')} without declaring it in emits (declared: ${[...declared].join(', ') || 'none'}); the catalog and AsyncAPI export will miss it`
}

/** Reads the state, the emitted events and `inspect()` of a consumer after a run. */
export async function observe(driver: Driver, consumer: ConsumerDefinition, causeOf: (id: string) => { label: string; key: string }): Promise<Observation> {
  const { redis, keys } = driver.bus
  const prefix = keys.statePrefix(consumer.name)
  const state: Record<string, unknown> = {}
  // SCAN, not the keys written through ctx: a consumer that writes behind the commit's back must show.
  for (const key of (await scanAll(driver, `${escapeGlob(prefix)}*`)).sort()) {
    driver.touched.add(key)
    state[key.slice(prefix.length)] = await readKey(driver, key)
  }
  const emitted: Record<string, string[]> = {}
  const emittedOrder: Record<string, { cause: string; key: string }[]> = {}
  const streamPrefix = keys.stream('')
  // Every stream of the run's namespace, not the consumer's declared `emits` (optional, for the
  // catalog): an emit the declaration misses must still be compared.
  const streams = (await scanAll(driver, `${escapeGlob(streamPrefix)}*`)).filter((k) => !consumer.subscribes.includes(k.slice(streamPrefix.length)))
  for (const streamKey of streams.sort()) {
    driver.touched.add(streamKey)
    const type = streamKey.slice(streamPrefix.length)
    const entries = (await redis.xrange(streamKey, '-', '+')) as [string, string[]][]
    if (entries.length === 0) continue
    const list: string[] = []
    const order: { cause: string; key: string }[] = []
    for (const [, fields] of entries) {
      const e = decodeEvent(fields, streamKey)
      const cause = causeOf(e.causationId)
      list.push(canonical({ type: e.type, version: e.version, key: e.key, correlationId: e.correlationId, source: e.source, payload: e.payload }))
      order.push({ cause: cause.label, key: cause.key })
    }
    emitted[type] = list.sort()
    emittedOrder[type] = order
  }
  return { state, emitted, emittedOrder, inspect: consumer.inspect ? await consumer.inspect() : undefined }
}

async function readKey(driver: Driver, key: string): Promise<unknown> {
  const { redis } = driver.bus
  const type = await redis.type(key)
  switch (type) {
    case 'string':
      return parseMaybe(await redis.get(key))
    case 'hash': {
      const all = await redis.hgetall(key)
      return Object.fromEntries(Object.keys(all).sort().map((f) => [f, parseMaybe(all[f] ?? null)]))
    }
    case 'list':
      return { list: await redis.lrange(key, 0, -1) }
    case 'set':
      return { set: (await redis.smembers(key)).sort() }
    case 'zset':
      return { zset: await redis.zrange(key, 0, -1, 'WITHSCORES') }
    default:
      return { type }
  }
}

function parseMaybe(raw: string | null): unknown {
  if (raw === null) return null
  try {
    return JSON.parse(raw) as unknown
  } catch {
    return raw
  }
}

export async function scanAll(driver: Driver, pattern: string): Promise<string[]> {
  return scanKeys(driver.bus.redis, { match: pattern, count: 5000 })
}

/** JSON with sorted object keys, so equal values print equal. */
export function canonical(value: unknown): string {
  return JSON.stringify(sortKeys(value))
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]))
  }
  return value
}

/** The first difference between two observations, in words; undefined when equal. */
export function difference(expected: Observation, actual: Observation, labels: { expected: string; actual: string }): string | undefined {
  const parts: [string, unknown, unknown][] = [
    ['state', expected.state, actual.state],
    ['emitted events', expected.emitted, actual.emitted],
    ['inspect()', expected.inspect, actual.inspect],
  ]
  for (const [what, a, b] of parts) {
    const ca = canonical(a)
    const cb = canonical(b)
    if (ca !== cb) return `${what} differ\n    ${labels.expected}: ${clip(ca)}\n    ${labels.actual}: ${clip(cb)}\n    first difference: ${firstDiff(a, b)}`
  }
  return undefined
}

function firstDiff(a: unknown, b: unknown, path = ''): string {
  if (canonical(a) === canonical(b)) return '(none)'
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const ra = a as Record<string, unknown>
    const rb = b as Record<string, unknown>
    for (const k of [...new Set([...Object.keys(ra), ...Object.keys(rb)])].sort()) {
      if (canonical(ra[k]) !== canonical(rb[k])) return firstDiff(ra[k], rb[k], `${path}.${k}`)
    }
  }
  return `${path || '(root)'}: ${clip(canonical(a) ?? 'undefined', 160)} vs ${clip(canonical(b) ?? 'undefined', 160)}`
}

function clip(text: string, max = 400): string {
  return text.length > max ? `${text.slice(0, max)}... (${text.length} chars)` : text
}
