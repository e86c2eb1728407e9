import { setTimeout as sleep } from 'node:timers/promises'
import { decodeEvent } from '../events/envelope.js'
import { errorMessage } from '../errors.js'
import { redisTimeMs } from '../redis/clock.js'
import type { Bus } from './bus.js'
import { OUTBOX_TARGET } from './context.js'
import { entryTime } from './entry-ids.js'
import { appendEncoded, type EncodedEvent } from './publish.js'

/** Consumer group of the relays on every partition's outbox: two relays never read one entry at once. */
export const RELAY_GROUP = 'relay'

/** How far behind the relay of one partition is: outbox entries not yet moved, and the oldest's age. */
export interface RelayLag {
  readonly partition: number
  readonly waiting: number
  /** Ms since the oldest waiting entry was committed (0 when none waits). */
  readonly oldestAgeMs: number
}

export interface Relay {
  /** Every partition's outbox, measured about once a second. */
  lag(): readonly RelayLag[]
  /** Entries this relay moved (published or found already published). */
  readonly moved: () => number
  /** Graceful: finishes the pass under way, then moves what waits in the partitions it relayed. */
  stop(): Promise<void>
  /** Stops on the spot, like kill -9: what it read and did not acknowledge is claimed by another relay later. */
  kill(): void
}

export interface RelayOptions {
  /** The relay's name in the group (the process's). */
  readonly name: string
  /** The partitions to relay now: those whose lease some runner of this process holds. */
  readonly partitions: () => Iterable<number>
  /** A relay's pending entries idle this long are claimed by another (a relay that died). */
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

/**
 * The outbox relay, inside the runners' process (bus.run starts it when P > 1). A commit whose
 * emit belongs to another partition appends it, encoded, to its own partition's outbox; the relay
 * reads the outboxes of the partitions this process holds a lease of, through one consumer
 * group, appends each event to its target partition with the publish script under the SAME id
 * (idempotent by the pub marker: moved twice, appended once), then XACK + XDEL in the source.
 * A relay that dies leaves its entries pending: whoever relays that partition next claims them
 * after the visibility timeout. Effectively-once across partitions, every script in one slot.
 */
export function startRelay(bus: Bus, options: RelayOptions): Relay {
  const batch = options.batchSize ?? 200
  const idleMs = options.idleMs ?? 50
  const groups = new Set<number>()
  const nextClaimAt = new Map<number, number>()
  let lag: RelayLag[] = []
  let lagAt = 0
  let moved = 0
  let running = true
  /** Every partition relayed so far: a graceful stop drains them. */
  const relayed = new Set<number>()

  const ensureGroup = async (partition: number): Promise<void> => {
    if (groups.has(partition)) return
    await bus.redis.xgroup('CREATE', (bus.partitions[partition] ?? bus.keys).outbox, RELAY_GROUP, '0', 'MKSTREAM').catch((error: unknown) => {
      if (!errorMessage(error).includes('BUSYGROUP')) throw error
    })
    groups.add(partition)
  }

  /** Moves entries of one source partition; returns how many it read. */
  const relay = async (partition: number): Promise<number> => {
    const outbox = (bus.partitions[partition] ?? bus.keys).outbox
    await ensureGroup(partition)
    const entries: RawEntry[] = []
    if (Date.now() >= (nextClaimAt.get(partition) ?? 0)) {
      // Another relay's entries, idle past the visibility timeout: it died between read and ack.
      const [, claimed, deleted] = (await bus.redis.xautoclaim(outbox, RELAY_GROUP, options.name, options.visibilityTimeoutMs, '0-0', 'COUNT', batch)) as [string, RawEntry[], string[]?]
      entries.push(...claimed, ...(deleted ?? []).map((id): RawEntry => [id, null]))
      nextClaimAt.set(partition, Date.now() + options.visibilityTimeoutMs / 2)
    }
    const read = (await bus.redis.xreadgroup('GROUP', RELAY_GROUP, options.name, 'COUNT', batch, 'STREAMS', outbox, '>')) as [string, RawEntry[]][] | null
    entries.push(...(read?.[0]?.[1] ?? []))
    if (entries.length === 0) return 0
    const byTarget = new Map<number, EncodedEvent[]>()
    for (const [, fields] of entries) {
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
    const ids = entries.map(([id]) => id)
    await bus.redis.multi().xack(outbox, RELAY_GROUP, ...ids).xdel(outbox, ...ids).exec()
    moved += ids.length
    return entries.length
  }

  const measure = async (): Promise<void> => {
    if (Date.now() - lagAt < 1_000) return
    lagAt = Date.now()
    lag = await readRelayLag(bus)
  }

  const loop = async (): Promise<void> => {
    let backoff = idleMs
    // A quiet relay polls less: a namespace whose emits all stay local pays a few reads a second.
    let idle = idleMs
    while (running) {
      try {
        let read = 0
        for (const partition of options.partitions()) {
          relayed.add(partition)
          read += await relay(partition)
        }
        await measure()
        backoff = idleMs
        idle = read === 0 ? Math.min(idle * 2, idleMs * 8) : idleMs
        if (read === 0) await sleep(idle)
      } catch (error) {
        if (!running) break
        if (errorMessage(error).includes('NOGROUP')) groups.clear() // the outbox was removed (clean): made again
        else bus.warn(`outbox relay: ${errorMessage(error)} (retrying)`)
        await sleep(backoff)
        backoff = Math.min(backoff * 2, 2_000)
      }
    }
  }
  const done = loop()

  return {
    lag: () => lag,
    moved: () => moved,
    async stop() {
      running = false
      await done
      // The runners committed their last waves before this: move what those left in the outboxes.
      for (const partition of relayed) {
        for (let pass = 0; pass < 100; pass++) if ((await relay(partition).catch(() => 0)) === 0) break
      }
    },
    kill() {
      running = false
    },
  }
}
