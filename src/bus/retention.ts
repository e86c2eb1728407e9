import type { Bus } from './bus.js'
import { compareEntryIds, nextEntryId } from './entry-ids.js'
import { toRecord } from './reader.js'
import { redisTimeMs } from '../redis/clock.js'

export interface RetentionPolicy {
  /** Keep about this many entries per stream (the cut is placed by entry time, approximately). */
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

/** Most entries one trim reads to find its cut; a long backlog is trimmed over several calls. */
const MAX_READ_PER_TRIM = 10_000

/**
 * Trims a stream to the policy but never past what a group still needs: its oldest pending
 * entry, or anything it has not been delivered yet. (Plain MAXLEN/MINID drops unacknowledged
 * entries, and XAUTOCLAIM then reports them deleted.) For `maxLen` it reads only the entries it
 * is about to trim (ids below every group's floor), at most MAX_READ_PER_TRIM per call.
 */
/** `now` (ms) defaults to Redis's clock: entry ids are Redis time, so age is measured on it. */
export async function trimStream(bus: Bus, type: string, policy: RetentionPolicy, now?: number): Promise<TrimResult> {
  const key = bus.keys.stream(type)
  let floor: { name: string; keepFrom: string } | undefined
  for (const group of await groupFloors(bus, key)) {
    if (floor === undefined || compareEntryIds(group.keepFrom, floor.keepFrom) < 0) floor = group
  }
  let target: string | undefined
  let heldBackBy: string | null = null
  if (policy.maxLen !== undefined) {
    const excess = (await bus.redis.xlen(key)) - policy.maxLen
    if (excess > 0) {
      const below = floor ? `(${floor.keepFrom}` : '+'
      const victims = (await bus.redis.xrange(key, '-', below, 'COUNT', Math.min(excess, MAX_READ_PER_TRIM))) as [string, string[]][]
      const last = victims[victims.length - 1]
      if (last) target = nextEntryId(last[0])
      if (victims.length < Math.min(excess, MAX_READ_PER_TRIM) && floor) heldBackBy = floor.name
    }
  }
  if (policy.maxAgeMs !== undefined) {
    let byAge = `${Math.max(0, (now ?? (await redisTimeMs(bus.redis))) - policy.maxAgeMs)}-0`
    if (floor && compareEntryIds(floor.keepFrom, byAge) < 0) {
      byAge = floor.keepFrom
      heldBackBy = floor.name
    }
    if (target === undefined || compareEntryIds(byAge, target) > 0) target = byAge
  }
  if (target === undefined) return { stream: type, trimmed: 0, heldBackBy }
  const trimmed = (await bus.redis.call('XTRIM', key, 'MINID', target)) as number
  return { stream: type, trimmed, heldBackBy }
}

/** Per group, the oldest entry id it still needs. */
async function groupFloors(bus: Bus, key: string): Promise<{ name: string; keepFrom: string }[]> {
  const groups = (await bus.redis.xinfo('GROUPS', key).catch(() => [])) as unknown[][]
  const out: { name: string; keepFrom: string }[] = []
  for (const flat of groups) {
    const g = toRecord(flat)
    const name = String(g.name)
    if (Number(g.pending) > 0) {
      const summary = (await bus.redis.xpending(key, name)) as [number, string, string, unknown]
      out.push({ name, keepFrom: summary[1] })
    } else {
      out.push({ name, keepFrom: nextEntryId(String(g['last-delivered-id'])) })
    }
  }
  return out
}
