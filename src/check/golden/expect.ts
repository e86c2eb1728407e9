import { diffLines } from 'diff'
import type { StoredValue } from './memory-state.js'
import type { GoldenRun } from './run.js'

/**
 * A state value as a case writes it: a string is a string key; `{ "$json": v }` a string key
 * holding JSON (what `setJson` writes); any other object a hash, whose field values are kept as
 * they are when strings and as JSON otherwise.
 */
export type StateValue = string | { readonly $json: unknown } | { readonly [field: string]: unknown }

/** One expected emitted event: `type` always; `key`, `version` when given; `payload` exact, or `payloadIncludes` a subset. */
export interface ExpectedEmit {
  readonly type: string
  readonly key?: string
  readonly version?: number
  /** Deep-equal to the emitted payload. */
  readonly payload?: unknown
  /** Only these properties (recursively; arrays element by element, same length) must match. */
  readonly payloadIncludes?: unknown
}

/** What a case expects. Each part is checked only when given; a case must give at least one. */
export interface Expected {
  /** Every event the `when` inputs emitted, in order: no more, no fewer. */
  readonly emits?: readonly ExpectedEmit[]
  /** The state names listed, each exactly (`null`: absent); names not listed are not checked. */
  readonly state?: Readonly<Record<string, StateValue | null>>
  /** The `when` inputs (by index) that end dead-lettered, with a part of their last error. Default: none may. */
  readonly deadLettered?: readonly { readonly event: number; readonly error?: string }[]
  /** What the consumer's `inspect()` returns after the inputs (its state outside Redis), deep-equal. */
  readonly inspect?: unknown
}

/** A state value as the memory state stores it. */
export function storedValue(value: StateValue): StoredValue {
  if (typeof value === 'string') return { kind: 'string', value }
  if (isJsonValue(value)) return { kind: 'string', value: JSON.stringify(value.$json) }
  return { kind: 'hash', fields: new Map(Object.entries(value).map(([f, v]) => [f, typeof v === 'string' ? v : JSON.stringify(v)])) }
}

/** Null when the run meets the expectations, else a readable diff (`-` expected, `+` actual). */
export function compare(expected: Expected, run: GoldenRun, inspected: unknown): string | null {
  const want: Record<string, unknown> = {}
  const got: Record<string, unknown> = {}
  const when = run.inputs.filter((i) => i.phase === 'when')
  if (expected.emits !== undefined) {
    want['emits'] = expected.emits
    const emitted = when.flatMap((i) => i.emitted)
    got['emits'] = emitted.map((e, n) => {
      const x = expected.emits?.[n]
      if (x === undefined) return { type: e.type, key: e.key, payload: e.payload }
      return {
        type: e.type,
        ...(x.key === undefined ? {} : { key: e.key }),
        ...(x.version === undefined ? {} : { version: e.version }),
        ...(x.payload === undefined ? {} : { payload: ordered(e.payload, x.payload) }),
        ...(x.payloadIncludes === undefined ? {} : { payloadIncludes: includes(e.payload, x.payloadIncludes) }),
      }
    })
  }
  if (expected.state !== undefined) {
    want['state'] = expected.state
    got['state'] = Object.fromEntries(Object.entries(expected.state).map(([name, x]) => [name, stateView(run.state.get(name), x)]))
  }
  const dead = when.filter((i) => i.outcome === 'dead-lettered')
  if (expected.deadLettered !== undefined || dead.length > 0) {
    const wanted = expected.deadLettered ?? []
    want['deadLettered'] = wanted
    got['deadLettered'] = dead.map((i) => {
      const error = i.errors.at(-1) ?? ''
      const x = wanted.find((w) => w.event === i.index)
      return { event: i.index, ...(x?.error === undefined ? (expected.deadLettered === undefined ? { error } : {}) : { error: error.includes(x.error) ? x.error : error }) }
    })
  }
  if (expected.inspect !== undefined) {
    want['inspect'] = expected.inspect
    got['inspect'] = ordered(inspected, expected.inspect)
  }
  const a = text(want)
  const b = text(got)
  return canonical(want) === canonical(got) ? null : readableDiff(a, b)
}

/** A line diff of two texts, `-` expected and `+` actual, long unchanged runs folded. */
export function readableDiff(expected: string, actual: string): string {
  const out = ['- expected', '+ actual', '']
  const CONTEXT = 3
  const parts = diffLines(expected, actual)
  parts.forEach((part, n) => {
    const lines = part.value.replace(/\n$/, '').split('\n')
    if (part.added || part.removed) {
      for (const line of lines) out.push(`${part.added ? '+' : '-'} ${line}`)
      return
    }
    const head = n === 0 ? 0 : CONTEXT
    const tail = n === parts.length - 1 ? 0 : CONTEXT
    if (lines.length <= head + tail + 1) for (const line of lines) out.push(`  ${line}`)
    else {
      for (const line of lines.slice(0, head)) out.push(`  ${line}`)
      out.push(`  … ${lines.length - head - tail} unchanged line(s)`)
      for (const line of lines.slice(lines.length - tail)) out.push(`  ${line}`)
    }
  })
  return out.join('\n')
}

/** The stored value in the shape the case wrote, so equal values print alike. */
function stateView(stored: StoredValue | undefined, x: StateValue | null): unknown {
  if (stored === undefined) return null
  if (stored.kind === 'string') {
    if (x !== null && typeof x === 'object' && isJsonValue(x)) return { $json: ordered(parseOr(stored.value), x.$json) }
    return stored.value
  }
  const shape = x !== null && typeof x === 'object' && !isJsonValue(x) ? (x as Record<string, unknown>) : {}
  const fields: Record<string, unknown> = {}
  const names = [...Object.keys(shape).filter((f) => stored.fields.has(f)), ...[...stored.fields.keys()].filter((f) => !(f in shape)).sort()]
  for (const f of names) {
    const raw = stored.fields.get(f) as string
    const want = shape[f]
    fields[f] = want === undefined || typeof want === 'string' ? raw : ordered(parseOr(raw), want)
  }
  return fields
}

/** `actual` restricted to what `shape` names (objects by key, arrays by index with their length kept). */
function includes(actual: unknown, shape: unknown): unknown {
  if (Array.isArray(shape) && Array.isArray(actual)) return actual.map((a, i) => (i < shape.length ? includes(a, shape[i]) : a))
  if (isObject(shape) && isObject(actual)) {
    const out: Record<string, unknown> = {}
    for (const k of Object.keys(shape)) if (k in actual) out[k] = includes(actual[k], shape[k])
    return out
  }
  return actual
}

/** `actual` with its object keys in `shape`'s order (then its own), so a diff lines them up. */
function ordered(actual: unknown, shape: unknown): unknown {
  if (Array.isArray(actual)) return actual.map((a, i) => ordered(a, Array.isArray(shape) ? shape[i] : undefined))
  if (!isObject(actual)) return actual
  const s = isObject(shape) ? shape : {}
  const keys = [...Object.keys(s).filter((k) => k in actual), ...Object.keys(actual).filter((k) => !(k in s))]
  return Object.fromEntries(keys.map((k) => [k, ordered(actual[k], s[k])]))
}

function parseOr(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown
  } catch {
    return raw
  }
}

function isJsonValue(value: object): value is { readonly $json: unknown } {
  return Object.keys(value).length === 1 && '$json' in value
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function text(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`
}

/** JSON with sorted keys: equality regardless of key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (isObject(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v))
}
