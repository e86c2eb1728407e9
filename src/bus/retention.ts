import type { Bus } from './bus.js'

export interface RetentionPolicy {
  /** Keep at most about this many entries per stream. */
  readonly maxLen?: number
  /** Keep entries younger than this. */
  readonly maxAgeMs?: number
}

export interface TrimResult {
  readonly stream: string
  readonly trimmed: number
  /** What stopped the trim short of the policy: a group that still needs entries, or nothing. */
  readonly heldBackBy: string | null
}

/**
 * Trims a stream to the policy but never past what a group still needs: its oldest pending
 * entry, or anything it has not been delivered yet. (Plain MAXLEN/MINID drops unacknowledged
 * entries, and XAUTOCLAIM then reports them deleted.)
 */
export async function trimStream(bus: Bus, type: string, policy: RetentionPolicy, now = Date.now()): Promise<TrimResult> {
  const key = bus.keys.stream(type)
  let target: string | undefined
  if (policy.maxLen !== undefined) {
    const newest = (await bus.redis.xrevrange(key, '+', '-', 'COUNT', policy.maxLen)) as [string, string[]][]
    if (newest.length === policy.maxLen) target = (newest[newest.length - 1] as [string, string[]])[0]
  }
  if (policy.maxAgeMs !== undefined) {
    const byAge = `${Math.max(0, now - policy.maxAgeMs)}-0`
    target = target === undefined || compare(byAge, target) > 0 ? byAge : target
  }
  if (target === undefined) return { stream: type, trimmed: 0, heldBackBy: null }
  let heldBackBy: string | null = null
  for (const { name, keepFrom } of await groupFloors(bus, key)) {
    if (compare(keepFrom, target) < 0) {
      target = keepFrom
      heldBackBy = name
    }
  }
  const trimmed = (await bus.redis.call('XTRIM', key, 'MINID', target)) as number
  return { stream: type, trimmed, heldBackBy }
}

/** Per group, the oldest entry id it still needs. */
async function groupFloors(bus: Bus, key: string): Promise<{ name: string; keepFrom: string }[]> {
  const groups = (await bus.redis.xinfo('GROUPS', key).catch(() => [])) as unknown[][]
  const out: { name: string; keepFrom: string }[] = []
  for (const flat of groups) {
    const g = record(flat)
    const name = String(g.name)
    if (Number(g.pending) > 0) {
      const summary = (await bus.redis.xpending(key, name)) as [number, string, string, unknown]
      out.push({ name, keepFrom: summary[1] })
    } else {
      out.push({ name, keepFrom: next(String(g['last-delivered-id'])) })
    }
  }
  return out
}

export function record(flat: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = flat[i + 1]
  return out
}

function next(id: string): string {
  const [ms, seq] = id.split('-')
  return `${ms}-${Number(seq) + 1}`
}

function compare(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number) as [number, number]
  const [bm, bs] = b.split('-').map(Number) as [number, number]
  return am - bm || as - bs
}
