import { randomBytes } from 'node:crypto'
import { scanAll, scanPage, unlinkAll, type RedisClient } from '../redis/index.js'

/**
 * Namespaces the tool's own runs make on a Redis they share with you, and delete when they end:
 * `pipeline load` makes `load-<seed>-<start time, base 36>`, `pipeline fuzz` one
 * `check-<8 hex>-<n>` per run (and `-sample`). Only names of exactly these shapes are ever
 * listed or removed by `pipeline clean`: a namespace of yours is never touched.
 */
const SCRATCH = [/^load-\d+-[0-9a-z]{6,12}$/, /^check-[0-9a-f]{8}-(\d+|sample)$/] as const

export function loadNamespace(seed: number): string {
  return `load-${seed}-${Date.now().toString(36)}`
}

/** The tag every namespace of one `fuzz` (checkConsumers) call starts with. */
export function checkRunTag(): string {
  return `check-${randomBytes(4).toString('hex')}`
}

function isScratchNamespace(namespace: string): boolean {
  return SCRATCH.some((re) => re.test(namespace))
}

export interface ScratchNamespace {
  readonly namespace: string
  readonly keys: number
  /** A lease is held: a run is still working in it (a lease expires within its visibility timeout once its run is gone). */
  readonly live: boolean
}

/** Every scratch namespace on this Redis (every master of a cluster), found with SCAN (never KEYS). */
export async function findScratchNamespaces(redis: RedisClient): Promise<ScratchNamespace[]> {
  const found = new Map<string, { keys: number; live: boolean }>()
  for (const match of ['{load-*', '{check-*']) {
    for (const key of await scanAll(redis, { match })) {
      // `{ns}:` or, for a partition of a namespace of several, `{ns:<p>}:`.
      const tag = /^\{([^}:]+)(:\d+)?\}:/.exec(key)
      const namespace = tag?.[1]
      if (namespace === undefined || !isScratchNamespace(namespace)) continue
      const entry = found.get(namespace) ?? { keys: 0, live: false }
      found.set(namespace, { keys: entry.keys + 1, live: entry.live || key.startsWith(`{${namespace}${tag?.[2] ?? ''}}:lease:`) })
    }
  }
  return [...found].map(([namespace, f]) => ({ namespace, ...f })).sort((a, b) => a.namespace.localeCompare(b.namespace))
}

/** Deletes every key of the namespaces matching `pattern` (a glob over the namespace, e.g. `check-1a2b3c4d-*`), of every partition; returns how many. */
export async function deleteNamespaces(redis: RedisClient, pattern: string): Promise<number> {
  let deleted = 0
  let cursor = '0'
  do {
    // `{ns}:…` and a partition's `{ns:<p>}:…`, in one SCAN; a page holds keys of several slots: one UNLINK per slot.
    const page = await scanPage(redis, cursor, { match: `{${pattern}[:}]*` })
    cursor = page.cursor
    deleted += await unlinkAll(redis, page.keys)
  } while (cursor !== '0')
  return deleted
}
