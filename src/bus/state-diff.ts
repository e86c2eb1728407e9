import type { Bus } from './bus.js'
import { escapeGlob } from './keys.js'
import { scanAll } from '../redis/nodes.js'
import type { RowMapping, StateEntry } from './types.js'

export type { RowMapping, StateEntry }


/** A read model as rows by key: what two read models are compared on. */
export type StateRows = ReadonlyMap<string, string>


export interface RowDifference {
  readonly key: string
  /** null: the row is missing on that side. */
  readonly left: string | null
  readonly right: string | null
}

export interface StateComparison {
  readonly leftRows: number
  readonly rightRows: number
  readonly equalRows: number
  /** How many rows differ (differences lists the first ones, by key). */
  readonly differing: number
  readonly differences: readonly RowDifference[]
}

/** Every key that starts with `prefix` (SCAN MATCH, the prefix's glob characters escaped): state, shadow and snapshot keys. */
export async function keysUnder(bus: Bus, prefix: string): Promise<string[]> {
  return scanAll(bus.redis, { match: `${escapeGlob(prefix)}*` })
}

/** Every string key and hash field under a state prefix (SCAN, then one pipeline of reads). */
export async function readStateEntries(bus: Bus, prefix: string): Promise<StateEntry[]> {
  const keys = await keysUnder(bus, prefix)
  keys.sort()
  const types = keys.length === 0 ? [] : ((await keys.reduce((p, k) => p.type(k), bus.redis.pipeline()).exec()) ?? []).map(([, t]) => String(t))
  const p = bus.redis.pipeline()
  keys.forEach((k, i) => (types[i] === 'hash' ? p.hgetall(k) : p.get(k)))
  const values = keys.length === 0 ? [] : ((await p.exec()) ?? []).map(([, v]) => v)
  const out: StateEntry[] = []
  keys.forEach((k, i) => {
    const name = k.slice(prefix.length)
    const v = values[i]
    if (types[i] === 'hash') for (const [field, value] of Object.entries((v ?? {}) as Record<string, string>).sort(([a], [b]) => a.localeCompare(b))) out.push({ name, field, value })
    else if (typeof v === 'string') out.push({ name, value: v })
  })
  return out
}

/** The default rows of a state: one per string key (`name`) and hash field (`name[field]`), values as stored. */
export const identityRows: RowMapping = (e) => ({ key: e.field === undefined ? e.name : `${e.name}[${e.field}]`, value: e.value })

export function toRows(entries: readonly StateEntry[], mapping: RowMapping = identityRows): Map<string, string> {
  const rows = new Map<string, string>()
  for (const e of entries) {
    const row = mapping(e)
    if (row) rows.set(row.key, row.value)
  }
  return rows
}

/** Comparisons of each partition's state as one: counts summed, the first differences by key (as many as one lists). */
export function sumComparisons(each: readonly StateComparison[]): StateComparison {
  if (each.length === 1) return each[0] as StateComparison
  const sum = (of: (c: StateComparison) => number) => each.reduce((n, c) => n + of(c), 0)
  const shown = Math.max(0, ...each.map((c) => c.differences.length))
  return {
    leftRows: sum((c) => c.leftRows),
    rightRows: sum((c) => c.rightRows),
    equalRows: sum((c) => c.equalRows),
    differing: sum((c) => c.differing),
    differences: each.flatMap((c) => c.differences).sort((a, b) => a.key.localeCompare(b.key)).slice(0, shown),
  }
}

/** Compares two read models row by row; lists up to `limit` differences, sorted by key. */
export function compareRows(left: StateRows, right: StateRows, limit = 20): StateComparison {
  const differences: RowDifference[] = []
  let equalRows = 0
  let differing = 0
  const keys = [...new Set([...left.keys(), ...right.keys()])].sort()
  for (const key of keys) {
    const l = left.get(key) ?? null
    const r = right.get(key) ?? null
    if (l === r) {
      equalRows++
      continue
    }
    differing++
    if (differences.length < limit) differences.push({ key, left: l, right: r })
  }
  return { leftRows: left.size, rightRows: right.size, equalRows, differing, differences }
}
