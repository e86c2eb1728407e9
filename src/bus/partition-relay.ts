import { setTimeout as sleep } from 'node:timers/promises'
import { decodeEvent } from '../events/envelope.js'
import { errorMessage } from '../errors.js'
import { redisTimeMs } from '../redis/clock.js'
import type { Bus } from './bus.js'
import { OUTBOX_TARGET } from './context.js'
import { entryTime } from './entry-ids.js'
import { Lease, leaseToken } from './lease.js'
import { appendEncoded, type EncodedEvent } from './publish.js'
import { GroupReader, isNoGroup } from './reader.js'

/** Consumer group of the relay on every partition's outbox (one relay at a time reads it: the relay lease). */
export const RELAY_GROUP = 'relay'

/** How far behind the relay of one partition is: outbox entries not yet moved, and the oldest's age. */
export interface RelayLag {
  readonly partition: number
  readonly waiting: number
  /** Ms since the oldest waiting entry was committed (0 when none waits). */
  readonly oldestAgeMs: number
}

export interface Relay {
  /** Entries this relay moved (published or found already published). */
  readonly moved: () => number
  /** Graceful: finishes the pass under way, moves what waits in the partitions it relays, and releases their leases. */
  stop(): Promise<void>
  /** Stops on the spot, like kill -9: its leases expire, and the next relay claims what it read and did not acknowledge. */
  kill(): void
}

export interface RelayOptions {
  /** The relay's name in the group and in its leases' tokens (the process's). */
  readonly name: string
  /** The partitions this process may relay now: those whose lease some runner of it holds. */
  readonly partitions: () => Iterable<number>
  /** The relay lease's length, and how long entries pending with a relay that lost it wait to be claimed. */
  readonly visibilityTimeoutMs: number
  readonly batchSize?: number
  /** Pause after a pass that found nothing; doubles while nothing comes, up to 8 times this. Default 50 ms. */
  readonly idleMs?: number
}

type RawEntry = [string, string[] | null]

/** Every partition's outbox: entries waiting (relayed ones are deleted) and the oldest's age, on Redis's clock. */
export async function readRelayLag(bus: Bus): Promise<RelayLag[]> {
  // A pipeline per partition: on a cluster their outboxes live in different slots.
  const [byPartition, now] = await Promise.all([
    Promise.all(bus.partitions.map((keys) => bus.redis.pipeline().xlen(keys.outbox).xrange(keys.outbox, '-', '+', 'COUNT', 1).exec())),
    redisTimeMs(bus.redis),
  ])
  return byPartition.map((replies, partition) => {
    const waiting = Number(replies?.[0]?.[1] ?? 0)
    const first = (replies?.[1]?.[1] as RawEntry[] | undefined)?.[0]
    return { partition, waiting, oldestAgeMs: first === undefined ? 0 : Math.max(0, now - entryTime(first[0])) }
  })
}

/** The dashboard's summary of the outboxes: what waits in all, the oldest, and the partition count. */
export interface RelaySummary {
  readonly partitions: number
  readonly waiting: number
  readonly oldestAgeMs: number
}

export function summarizeLag(lag: readonly RelayLag[]): RelaySummary {
  return { partitions: lag.length, waiting: lag.reduce((a, l) => a + l.waiting, 0), oldestAgeMs: Math.max(0, ...lag.map((l) => l.oldestAgeMs)) }
}

/** One source partition as this relay sees it: its relay lease and its reader of the outbox's group. */
interface OutboxSide {
  readonly lease: Lease
  readonly reader: GroupReader
  grouped: boolean
  /** Set at each take of the lease and after a failed pass: every pending entry is claimed first, in id order. */
  claimAll: boolean
  nextClaimAt: number
  /** When the lease was last found held: a relay paused longer may have been replaced meanwhile. */
  heldAt: number
  /** Not held: when to ask for the lease again (a round trip each time). */
  nextTryAt: number
}

type Read = [string, RawEntry][]

/**
 * The outbox relay, inside the runners' process (bus.run starts it when P > 1). A commit whose
 * emit belongs to another partition appends it, encoded, to its own partition's outbox. Each
 * outbox has ONE relay at a time, the holder of the partition's relay lease, taken by a process
 * that runs some runner of that partition: two relays reading one outbox at once would land
 * their batches in any order, and one key's emits out of order. The relay appends each event to
 * its target partition with the publish script under the SAME id (idempotent by the pub marker:
 * moved twice, appended once), then XACK + XDEL in the source. A relay that takes the lease
 * claims every pending entry first (min-idle 0, in id order, as a runner does at a takeover), so
 * the emits a dead relay read and did not acknowledge arrive before the newer ones.
 */
export function startRelay(bus: Bus, options: RelayOptions): Relay {
  const batch = options.batchSize ?? 200
  const idleMs = options.idleMs ?? 50
  const visibility = options.visibilityTimeoutMs
  const sides = new Map<number, OutboxSide>()
  let moved = 0
  let running = true
  let killed = false

  const sideOf = (partition: number): OutboxSide => {
    let side = sides.get(partition)
    if (side === undefined) {
      const keys = bus.partitions[partition] ?? bus.keys
      side = {
        lease: new Lease(bus, keys.relayLease, visibility, leaseToken(options.name)),
        reader: new GroupReader(bus, RELAY_GROUP, options.name, [keys.outbox], bus.redis),
        grouped: false,
        claimAll: true,
        nextClaimAt: 0,
        heldAt: 0,
        nextTryAt: 0,
      }
      sides.set(partition, side)
    }
    return side
  }

  /** Moves entries of one source partition if this relay holds its lease; returns how many it read. */
  const relay = async (partition: number): Promise<number> => {
    const side = sideOf(partition)
    if (killed || (!side.lease.holds && Date.now() < side.nextTryAt)) return 0
    const taking = !side.lease.holds || Date.now() - side.heldAt > visibility / 2
    if (!(await side.lease.ensure())) {
      side.nextTryAt = Date.now() + visibility / 4
      return 0
    }
    side.heldAt = Date.now()
    if (taking) side.claimAll = true
    if (!side.grouped) {
      await side.reader.ensureGroups()
      side.grouped = true
    }
    const entries: Read = []
    if (side.claimAll) {
      entries.push(...(await side.reader.claim(0, batch)))
      // Every pending entry is this relay's now: the consumers earlier processes left go.
      await side.reader.forgetIdleInstances()
      side.claimAll = false
      side.nextClaimAt = Date.now() + visibility
    } else if (Date.now() >= side.nextClaimAt) {
      // Read by a relay paused past its lease after this one took over: taken once idle that long.
      entries.push(...(await side.reader.claim(visibility, batch)))
      side.nextClaimAt = Date.now() + visibility / 2
    }
    entries.push(...(await side.reader.readNew(batch, 0)))
    if (entries.length === 0) return 0
    // Paused past the lease since the check above (SIGSTOP, a long GC): the new holder moves them.
    if (!(await side.lease.ensure())) return 0
    const byTarget = new Map<number, EncodedEvent[]>()
    for (const [, [, fields]] of entries) {
      if (fields === null) continue // deleted while pending: acknowledged below, nothing to move
      const at = fields.findIndex((f, i) => i % 2 === 0 && f === OUTBOX_TARGET)
      const target = Number(fields[at + 1])
      const eventFields = [...fields.slice(0, at), ...fields.slice(at + 2)]
      const event = decodeEvent(eventFields, `outbox entry of partition ${partition}`)
      const list = byTarget.get(target) ?? []
      list.push({ id: event.id, type: event.type, correlationId: event.correlationId, fields: eventFields })
      byTarget.set(target, list)
    }
    // Appended first, acknowledged after: a crash in between re-relays, and the marker appends nothing.
    for (const [target, events] of byTarget) {
      const keys = bus.partitions[target]
      if (keys === undefined) throw new Error(`outbox of partition ${partition} names partition ${target}, which does not exist`)
      await appendEncoded(bus, keys, events)
      await bus.redis.sadd(bus.keys.streams, ...new Set(events.map((e) => e.type)))
    }
    const outbox = (bus.partitions[partition] ?? bus.keys).outbox
    const ids = entries.map(([, [id]]) => id)
    await bus.redis.multi().xack(outbox, RELAY_GROUP, ...ids).xdel(outbox, ...ids).exec()
    moved += ids.length
    return entries.length
  }

  /** Leases of partitions this process runs no runner of any more go back: a process that does relays them. */
  const handBack = async (keep: ReadonlySet<number>): Promise<void> => {
    for (const [partition, side] of sides) {
      if (keep.has(partition) || !side.lease.holds) continue
      await side.lease.release()
      side.claimAll = true
    }
  }

  const loop = async (): Promise<void> => {
    let backoff = idleMs
    // A quiet relay polls less: a namespace whose emits all stay local pays a few reads a second.
    let idle = idleMs
    while (running) {
      try {
        let read = 0
        const now = new Set(options.partitions())
        for (const partition of now) read += await relay(partition)
        await handBack(now)
        backoff = idleMs
        idle = read === 0 ? Math.min(idle * 2, idleMs * 8) : idleMs
        if (read === 0) await sleep(idle)
      } catch (error) {
        if (!running) break
        // What a failed pass read is pending with this relay: moved again first, in id order.
        for (const side of sides.values()) side.claimAll = true
        if (isNoGroup(error)) for (const side of sides.values()) side.grouped = false // the outbox was removed (clean): made again
        else bus.warn(`outbox relay: ${errorMessage(error)} (retrying)`)
        await sleep(backoff)
        backoff = Math.min(backoff * 2, 2_000)
      }
    }
  }
  const done = loop()

  return {
    moved: () => moved,
    async stop() {
      running = false
      await done
      // The runners committed their last waves before this: move what those left in the outboxes
      // this relay holds (or finds free), then let the leases go.
      for (const [partition, side] of sides) {
        side.nextTryAt = 0
        for (let pass = 0; pass < 100; pass++) if ((await relay(partition).catch(() => 0)) === 0) break
      }
      await Promise.all([...sides.values()].map((side) => side.lease.release()))
    },
    kill() {
      running = false
      killed = true
      // Again once the pass under way ends: it may have just taken a lease (and started renewing it).
      const letExpire = () => {
        for (const side of sides.values()) side.lease.stopRenewing()
      }
      letExpire()
      void done.finally(letExpire)
    },
  }
}
