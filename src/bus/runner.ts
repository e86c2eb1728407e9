import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import type { EventEnvelope } from '../events/envelope.js'
import { errorMessage } from '../errors.js'
import type { Bus } from './bus.js'
import { Lease, leaseToken } from './lease.js'
import { RunnerMetrics } from './metrics.js'
import { registration } from './presence.js'
import { entryTime } from './entry-ids.js'
import { GroupReader, isNoGroup } from './reader.js'
import { DEFAULT_RETRY, type RetryPolicy } from './retry.js'
import type { ScriptClient } from './scripts.js'
import type { ConsumerDefinition } from './types.js'
import { WaveEngine, type ReadEntries } from './wave-engine.js'
import { DEFAULT_INBOX_SIZE } from './windows.js'

export interface RunnerOptions {
  /** Entries per read (per stream). Default 200. */
  readonly batchSize?: number
  /** How long a read blocks waiting for new entries. Default 1000 ms. */
  readonly blockMs?: number
  /** A blocking read that has not answered after blockMs + this is abandoned and re-made. */
  readonly watchdogGraceMs?: number
  /** Lease length, and how long a pending entry must be idle before another instance claims it. Default 10 s. */
  readonly visibilityTimeoutMs?: number
  readonly retry?: RetryPolicy
  /** Event ids kept per consumer for duplicate detection. Default 100,000. */
  readonly inboxSize?: number
  readonly random?: () => number
  /** Test hook: runs after handling, before the commit (crash injection). */
  readonly beforeCommit?: (runner: Runner, events: readonly EventEnvelope[]) => void | Promise<void>
}

export interface Runner {
  readonly consumer: ConsumerDefinition
  readonly instance: string
  readonly metrics: RunnerMetrics
  /** The partitions whose lease this runner holds now. */
  owned(): readonly number[]
  /** Resolves when the runner has stopped. */
  readonly done: Promise<void>
  stop(): Promise<void>
  /** Dies on the spot, like kill -9: no commit, no lease release (tests of crash recovery). */
  kill(): void
}

class Killed extends Error {}

/** A read that brought at least this many entries marks the consumer busy: it reads ahead. */
const READ_AHEAD_FROM = 8
class ReadConnectionClosed extends Error {}

/** How a runner of one partition of a consumer takes part in its instance (partition-share.ts). */
export interface RunnerPlace {
  /** The instance's name, shared by its runners of every partition (group consumer name, lease token). */
  readonly instance: string
  readonly metrics: RunnerMetrics
  /** Which partitions this instance may take or must hand back; none: take the lease whenever free. */
  readonly share?: PartitionGate
}

/** The fair share of an instance, asked by each of its partition runners before it takes or keeps a lease. */
export interface PartitionGate {
  /** May this partition's free lease be taken now? True reserves a place until `report`. */
  mayTake(partition: number): boolean
  /** Should this held partition be handed back now (the instance holds more than its share)? */
  mustGive(partition: number): boolean
  /** Whether the runner holds its partition's lease, after each try. */
  report(partition: number, held: boolean): void
}

/** Runs one consumer: reads, claims and the lease here; holding, waves and commits in its WaveEngine. */
export function startRunner(bus: Bus, consumer: ConsumerDefinition, options: RunnerOptions, place?: RunnerPlace): Runner {
  const batchSize = options.batchSize ?? 200
  const blockMs = options.blockMs ?? 1_000
  const visibility = options.visibilityTimeoutMs ?? 10_000
  const retry = options.retry ?? DEFAULT_RETRY
  const random = options.random ?? Math.random
  const instance = place?.instance ?? instanceName(consumer.name)
  const partition = bus.keys.partition
  const share = place?.share
  const group = bus.keys.group(consumer.name)
  // Blocking reads get their own connection, a watchdog (command timeout), and no automatic
  // re-send after a reconnect: a re-sent XREADGROUP could deliver entries nobody sees.
  const conn: ScriptClient = bus.connect({
    commandTimeout: blockMs + (options.watchdogGraceMs ?? 3_000),
    autoResendUnfulfilledCommands: false,
    connectionName: bus.partitionCount === 1 ? `${consumer.name}:read` : `${consumer.name}:${partition}:read`,
  })
  const reader = new GroupReader(bus, group, instance, consumer.subscribes.map((t) => bus.keys.stream(t)), conn)
  const lease = new Lease(bus, bus.keys.lease(consumer.name), visibility, leaseToken(instance))
  const metrics = place?.metrics ?? new RunnerMetrics()
  let running = true
  let killed = false
  let needOwnPending = true
  let claimAll = true
  let nextClaimAt = 0
  let breakerReadAt = 0
  conn.on('reconnecting', () => {
    needOwnPending = true
  })
  // Without the re-send, ioredis drops a read in flight when the connection closes and never
  // settles it: the loop would hang until the watchdog. The close rejects it at once instead
  // (one listener for the runner's life); the loop then re-reads its own pending entries first.
  let abortRead: ((error: Error) => void) | undefined
  conn.on('close', () => abortRead?.(new ReadConnectionClosed()))
  const onConn = <T>(read: Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      abortRead = reject
      // A dropped read still rejects later, on its command timeout: swallowed by the settled race.
      read.then(resolve, reject).finally(() => {
        if (abortRead === reject) abortRead = undefined
      })
    })

  const engine = new WaveEngine(bus, consumer, {
    token: lease.token,
    retry,
    batchSize,
    inboxSize: options.inboxSize ?? DEFAULT_INBOX_SIZE,
    lastCommitted: reader.lastCommitted,
    random,
    sink: {
      deferred: () => void metrics.deferred++,
      committed: (held, _effects, at) => metrics.recordCommit(at - entryTime(held.entryId)),
      counted: (handled, duplicates) => {
        metrics.handled += handled
        metrics.duplicates += duplicates
      },
      failed: (_held, _error, _attempts, decision) => void (decision.kind === 'dead-letter' ? metrics.deadLettered++ : metrics.retries++),
    },
    beforeCommit: async (done) => {
      if (options.beforeCommit) await options.beforeCommit(runner, done.map((d) => d.held.event as EventEnvelope))
      return !killed
    },
  })

  // Read-ahead: the next read goes out while the waves of this step are handled and committed
  // (the read has a connection of its own), so a busy consumer finds its next entries waiting
  // instead of paying a round trip after every commit. Its entries are held at the next step,
  // behind what is held now: per-key order is arrival order either way. Only while busy (the
  // last read brought several entries): a quiet consumer's read-ahead would come back empty and
  // cost a round trip before every blocking read, a millisecond a hop on a file's latency.
  let ahead: { entries: Promise<ReadEntries>; rewound: boolean } | null = null
  let lastRead = 0
  const readAhead = (): void => {
    if (ahead !== null || lastRead < READ_AHEAD_FROM || engine.breaker.state.open || engine.size >= batchSize * 4) return
    const entries = onConn(reader.readNew(batchSize, 0))
    // Awaited at the next step; a step that throws first drops it (its entries stay pending, re-read below).
    entries.catch(() => {})
    ahead = { entries, rewound: reader.rewound }
  }

  const step = async () => {
    let readAheadHeld = false
    if (ahead !== null) {
      const { entries, rewound } = ahead
      ahead = null
      const read = await entries
      lastRead = read.length
      readAheadHeld = read.length > 0
      // Held before the lease check: if the lease is gone, forget() below drops them with the rest.
      await engine.hold(read, rewound)
    }
    if (share && lease.holds && share.mustGive(partition)) {
      // Above the instance's share: hand the partition back at once. What is held but not handled
      // stays pending in Redis; the next holder claims it first (claimAll), in id order.
      engine.forget()
      await lease.release()
      share.report(partition, false)
      claimAll = true
    }
    const mayHold = lease.holds || share === undefined || share.mayTake(partition)
    const holds = mayHold && (await lease.ensure())
    share?.report(partition, holds)
    if (!holds) {
      engine.forget()
      claimAll = true
      // Refused by the share costs no round trip: look again soon (the share may grow at its next beat).
      await sleep(mayHold ? Math.max(50, visibility / 4) : Math.min(100, visibility / 4))
      return
    }
    if (claimAll) {
      // Holding the lease means no other instance commits: take everything still pending, in
      // id order, before reading anything new, so per-key order survives a takeover.
      await engine.hold(await reader.claim(0, batchSize), true)
      await reader.forgetIdleInstances()
      claimAll = false
      nextClaimAt = Date.now() + visibility
    }
    if (needOwnPending) {
      needOwnPending = false
      await engine.hold(await onConn(reader.readOwnPending(batchSize)), true)
    }
    if (Date.now() >= nextClaimAt) {
      await engine.hold(await reader.claim(visibility, batchSize), true)
      nextClaimAt = Date.now() + visibility / 2
    }
    const now = Date.now()
    // Another instance, or `pipeline pause`/`resume`, may have changed it: read it every step while
    // open (probes are due by it), else once per block time, not a round trip per busy step.
    const readBreaker = engine.breaker.state.open || now - breakerReadAt >= blockMs
    if (readBreaker) breakerReadAt = now
    const breaker = readBreaker ? await engine.refreshBreaker() : engine.breaker.state
    const due = engine.nextDue()
    if (!breaker.open && engine.size < batchSize * 4) {
      // Work is due now: top up without blocking. Otherwise block until new entries or the next retry.
      // (Not when the read-ahead just brought entries: they are the top-up.)
      if (!readAheadHeld) {
        const rewound = reader.rewound
        const read = await onConn(reader.readNew(batchSize, due <= now ? 0 : Math.min(blockMs, due - now)))
        lastRead = read.length
        await engine.hold(read, rewound)
      }
    } else if (breaker.open && engine.size === 0 && engine.breaker.probeDue(now)) {
      // Paused with nothing held (all committed before a restart): the probe is the next new entry.
      const rewound = reader.rewound
      await engine.hold(await onConn(reader.readNew(1, blockMs)), rewound)
    } else if (due > now) {
      await sleep(Math.min(due - now, blockMs))
    }
    for (let wave = engine.readyWave(); wave.some((w) => !w.sitOut) && running; wave = engine.readyWave()) {
      readAhead()
      if (!(await engine.run(wave))) throw new Killed()
    }
  }

  const loop = async () => {
    await reader.ensureGroups()
    await bus.redis.sadd(bus.keys.streams, ...consumer.subscribes, ...(consumer.emits ?? []))
    await bus.redis.hset(bus.keys.consumers, consumer.name, registration(consumer))
    let backoff = 100
    while (running) {
      try {
        await step()
        backoff = 100
      } catch (error) {
        if (error instanceof Killed || killed) return
        // A read-ahead not held yet: its entries are this instance's pending ones, read again below.
        if (ahead !== null) {
          ahead = null
          needOwnPending = true
        }
        if (!running) break
        if (isNoGroup(error)) {
          // Recreate below what is still held, then forget it: it comes back as new entries.
          const held = engine.forget()
          needOwnPending = true
          await reader.recoverGroups(held).catch(() => {})
        } else if (error instanceof ReadConnectionClosed || errorMessage(error) === 'Connection is closed.') {
          // The read connection dropped (and reconnects by itself), or on a cluster a node's
          // connection closed under a command (a failover): the step is retried from its pending
          // entries either way, so nothing to say (a failover said so ~40 times otherwise).
          needOwnPending = true
        } else if (errorMessage(error).includes('timed out')) {
          // The watchdog fired on a read: the connection may be half-dead; re-make it.
          needOwnPending = true
          conn.disconnect(true)
        } else if (errorMessage(error).includes('E_LEASE_LOST') || (error as { code?: string }).code === 'E_LEASE_LOST') {
          lease.lost()
          engine.forget()
          claimAll = true
        } else {
          bus.warn(`consumer ${consumer.name}: ${errorMessage(error)} (retrying)`)
          needOwnPending = true
        }
        await sleep(backoff)
        backoff = Math.min(backoff * 2, 2_000)
      }
    }
    await lease.release()
    share?.report(partition, false)
  }

  const done = loop()
    .catch((error) => bus.warn(`consumer ${consumer.name} stopped: ${errorMessage(error)}`))
    .finally(() => {
      lease.stopRenewing()
      conn.disconnect()
    })

  const runner: Runner = {
    consumer,
    instance,
    metrics,
    owned: () => (lease.holds && !killed ? [partition] : []),
    done,
    async stop() {
      running = false
      // A blocked read would hold the stop for up to blockMs; its entries stay pending in Redis
      // and are claimed by the next instance, so cutting it short loses nothing.
      conn.disconnect()
      await done
    },
    kill() {
      killed = true
      running = false
      lease.stopRenewing()
      conn.disconnect()
    },
  }
  return runner
}

/** A consumer instance's name: the consumer, host, process and a random tail (two buses in one process differ). */
export function instanceName(consumer: string): string {
  return `${consumer}@${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`
}
