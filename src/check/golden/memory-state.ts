import type { StateReader, WriteEffect } from '../../bus/context.js'

/** What one state key holds: a string or a hash, as in Redis. */
export type StoredValue = { readonly kind: 'string'; value: string } | { readonly kind: 'hash'; fields: Map<string, string> }

/** Redis's reply to a read of a key of the other type. */
const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value'

/**
 * A consumer's committed state in memory, keyed by full state key: the reads a HandlerContext
 * makes (with Redis's answers, WRONGTYPE included) and the writes lua/commit.lua applies (with
 * its checks first: a write to a key of the other type refuses the event, nothing applied).
 */
export class MemoryState implements StateReader {
  readonly keys = new Map<string, StoredValue>()

  get(key: string): Promise<string | null> {
    const v = this.keys.get(key)
    if (v !== undefined && v.kind !== 'string') return Promise.reject(new Error(WRONGTYPE))
    return Promise.resolve(v === undefined ? null : v.value)
  }

  hget(key: string, field: string): Promise<string | null> {
    const v = this.keys.get(key)
    if (v !== undefined && v.kind !== 'hash') return Promise.reject(new Error(WRONGTYPE))
    return Promise.resolve(v?.fields.get(field) ?? null)
  }

  hgetall(key: string): Promise<Record<string, string>> {
    const v = this.keys.get(key)
    if (v !== undefined && v.kind !== 'hash') return Promise.reject(new Error(WRONGTYPE))
    return Promise.resolve(v === undefined ? {} : Object.fromEntries(v.fields))
  }

  /**
   * The key commit.lua's checks refuse, else undefined: a write whose key holds the other type
   * already (checked against the state before the event, once per key, as the script does).
   */
  wrongTypeKey(writes: readonly WriteEffect[]): string | undefined {
    const checked = new Set<string>()
    for (const w of writes) {
      if (w.kind === 'del' || checked.has(w.key)) continue
      checked.add(w.key)
      const kind = this.keys.get(w.key)?.kind
      if (kind !== undefined && kind !== (w.kind === 'set' ? 'string' : 'hash')) return w.key
    }
    return undefined
  }

  /**
   * Applies one event's writes in order, as commit.lua's SET, DEL, HSET, HDEL and HINCRBY do.
   * An error Redis would raise half-way (HSET after SET of one key, HINCRBY of a field that is
   * not an integer) throws with nothing applied; the runtime's commit then fails as a whole.
   */
  apply(writes: readonly WriteEffect[]): void {
    // Staged on copies of the touched keys, so a throw leaves the state as it was.
    const staged = new Map<string, StoredValue | undefined>()
    const current = (key: string): StoredValue | undefined => (staged.has(key) ? staged.get(key) : copy(this.keys.get(key)))
    const hash = (key: string): Map<string, string> => {
      const v = current(key)
      if (v?.kind === 'string') throw new Error(WRONGTYPE)
      const fields = v?.fields ?? new Map<string, string>()
      staged.set(key, { kind: 'hash', fields })
      return fields
    }
    for (const w of writes) {
      switch (w.kind) {
        case 'set':
          staged.set(w.key, { kind: 'string', value: w.value })
          break
        case 'del':
          staged.set(w.key, undefined)
          break
        case 'hset':
          hash(w.key).set(w.field, w.value)
          break
        case 'hdel': {
          const fields = hash(w.key)
          fields.delete(w.field)
          // Redis deletes a hash with its last field.
          if (fields.size === 0) staged.set(w.key, undefined)
          break
        }
        case 'hincrby': {
          const fields = hash(w.key)
          const raw = fields.get(w.field) ?? '0'
          if (!/^-?\d+$/.test(raw)) throw new Error('ERR hash value is not an integer')
          fields.set(w.field, String(Number(raw) + w.by))
          break
        }
      }
    }
    for (const [key, value] of staged) {
      if (value === undefined) this.keys.delete(key)
      else this.keys.set(key, value)
    }
  }
}

function copy(v: StoredValue | undefined): StoredValue | undefined {
  return v?.kind === 'hash' ? { kind: 'hash', fields: new Map(v.fields) } : v === undefined ? undefined : { ...v }
}
