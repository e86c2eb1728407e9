import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import type { EventEnvelope } from '../events/envelope.js'
import { errorMessage } from '../errors.js'
import type { Bus } from './bus.js'
import { commitBatch, recordFailure } from './commit.js'
import { WaveConflicts, footprint, formWave } from './conflicts.js'
import { HandlerContext, type ContextScope, type Effects } from './context.js'
import { Lease } from './lease.js'
import { RunnerMetrics } from './metrics.js'
import { compareEntryIds, entryTime } from './entry-ids.js'
import { GroupReader, isNoGroup, toHeld, type Held } from './reader.js'
import { DEFAULT_RETRY, decideFailure, type RetryPolicy } from './retry.js'
import type { ScriptClient } from './scripts.js'
import type { ConsumerDefinition } from './types.js'
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
  /** Resolves when the runner has stopped. */
  readonly done: Promise<void>
  stop(): Promise<void>
  /** Dies on the spot, like kill -9: no commit, no lease release (tests of crash recovery). */
  kill(): void
}

class Killed extends Error {}
class ReadConnectionClosed extends Error {}

/** Runs one consumer: read, hold per key, handle in waves, commit each wave atomically. */
export function startRunner(bus: Bus, consumer: ConsumerDefinition, options: RunnerOptions): Runner {
  const batchSize = options.batchSize ?? 200
  const blockMs = options.blockMs ?? 1_000
  const visibility = options.visibilityTimeoutMs ?? 10_000
  const retry = options.retry ?? DEFAULT_RETRY
  const random = options.random ?? Math.random
  const instance = `${consumer.name}@${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`
  const group = bus.keys.group(consumer.name)
  // Blocking reads get their own connection, a watchdog (command timeout), and no automatic
  // re-send after a reconnect: a re-sent XREADGROUP could deliver entries nobody sees.
  const conn: ScriptClient = bus.connect({
    commandTimeout: blockMs + (options.watchdogGraceMs ?? 3_000),
    autoResendUnfulfilledCommands: false,
    connectionName: `${consumer.name}:read`,
  })
  const reader = new GroupReader(bus, group, instance, consumer.subscribes.map((t) => bus.keys.stream(t)), conn)
  const lease = new Lease(bus, bus.keys.lease(consumer.name), visibility)
  const metrics = new RunnerMetrics()
  const queues = new Map<string, Held[]>()
  const known = new Set<string>()
  const orderKeyOf = (e: EventEnvelope) => consumer.orderingKey?.(e) ?? e.key
  let running = true
  let killed = false
  let needOwnPending = true
  let claimAll = true
  let nextClaimAt = 0
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

  const scope: ContextScope = { consumer: consumer.name, source: consumer.name, keys: bus.keys, redis: bus.redis, contracts: bus.contracts }

  /** `seenBefore`: entries from a pending list or a claim may carry failed attempts already. */
  const hold = async (entries: [string, [string, string[] | null]][], seenBefore: boolean) => {
    const fresh: Held[] = []
    for (const [key, entry] of entries) {
      const id = `${key} ${entry[0]}`
      if (known.has(id)) continue
      known.add(id)
      fresh.push(toHeld(bus, key, entry, orderKeyOf))
    }
    if (fresh.length === 0) return
    if (seenBefore) {
      const counts = await bus.redis.hmget(bus.keys.attempts(consumer.name), ...fresh.map((h) => `${h.streamKey} ${h.entryId}`))
      fresh.forEach((h, i) => {
        h.failures = Number(counts[i] ?? 0)
      })
    }
    for (const h of fresh) {
      if (h.invalid !== undefined) await fail(h, new Error(h.invalid), true)
      else {
        const q = queues.get(h.orderKey)
        if (q) q.push(h)
        else queues.set(h.orderKey, [h])
      }
    }
  }

  const release = (h: Held) => {
    known.delete(`${h.streamKey} ${h.entryId}`)
    const q = queues.get(h.orderKey)
    if (q && q[0] === h) {
      q.shift()
      if (q.length === 0) queues.delete(h.orderKey)
    }
  }

  const fail = async (h: Held, error: unknown, permanent: boolean) => {
    const result = await recordFailure(bus, consumer.name, lease.token, h, error, permanent, retry)
    const decision = decideFailure(retry, result.attempts, result.deadLettered, random)
    if (decision.kind === 'dead-letter') {
      metrics.deadLettered++
      known.delete(`${h.streamKey} ${h.entryId}`)
      if (h.event) release(h)
    } else {
      metrics.retries++
      h.failures = result.attempts
      h.notBefore = Date.now() + decision.delayMs
    }
  }

  type Outcome = { ctx: HandlerContext; error?: undefined } | { ctx?: undefined; error: unknown }

  const handleOne = async (held: Held): Promise<Outcome> => {
    const ctx = new HandlerContext(scope, held.event as EventEnvelope, held.failures + 1)
    try {
      await consumer.handle(held.event as EventEnvelope, ctx)
      return { ctx }
    } catch (error) {
      return { error }
    }
  }

  const handleWave = async (wave: { held: Held; sitOut: boolean }[]) => {
    const outcomes = await Promise.all(wave.map((w) => (w.sitOut ? undefined : handleOne(w.held))))
    const done: { held: Held; effects: Effects }[] = []
    const failed: { held: Held; error: unknown }[] = []
    // In wave order: an event that touched what an earlier one wrote (or what an earlier,
    // deferred one touched) waits for the next wave.
    const conflicts = new WaveConflicts()
    outcomes.forEach((outcome, i) => {
      const held = (wave[i] as { held: Held }).held
      if (outcome === undefined) conflicts.block(held.footprint ?? [])
      else if (outcome.ctx === undefined) failed.push({ held, error: outcome.error })
      else if (!conflicts.defer(outcome.ctx.reads, outcome.ctx.effects)) done.push({ held, effects: outcome.ctx.effects })
      else {
        held.footprint = footprint(outcome.ctx.reads, outcome.ctx.effects)
        metrics.deferred++
      }
    })
    if (options.beforeCommit) await options.beforeCommit(runner, done.map((d) => d.held.event as EventEnvelope))
    if (killed) throw new Killed()
    if (done.length > 0) {
      const outcome = await commitBatch(bus, consumer.name, lease.token, done, options.inboxSize ?? DEFAULT_INBOX_SIZE)
      const now = Date.now()
      for (const { held } of outcome.committed) {
        release(held)
        metrics.recordCommit(now - entryTime(held.entryId))
        const last = reader.lastCommitted.get(held.streamKey)
        if (last === undefined || compareEntryIds(held.entryId, last) > 0) reader.lastCommitted.set(held.streamKey, held.entryId)
      }
      metrics.handled += outcome.handled
      metrics.duplicates += outcome.duplicates
      if (outcome.stale > 0) {
        bus.warn(`consumer ${consumer.name}: ${outcome.stale} entries it held are no longer pending in Redis (Redis lost writes?); nothing was applied for them`)
      }
      for (const { held, error } of outcome.rejected) failed.push({ held, error })
    }
    for (const { held, error } of failed) await fail(held, error, false)
  }

  const readyWave = (now: number): { held: Held; sitOut: boolean }[] => {
    const heads: Held[] = []
    for (const q of queues.values()) {
      const head = q[0] as Held
      if (head.notBefore <= now) heads.push(head)
    }
    return formWave(heads, batchSize)
  }

  const nextDue = (): number => {
    let due = Number.POSITIVE_INFINITY
    for (const q of queues.values()) due = Math.min(due, (q[0] as Held).notBefore)
    return due
  }

  const forgetAll = () => {
    queues.clear()
    known.clear()
  }

  const step = async () => {
    if (!(await lease.ensure())) {
      forgetAll()
      claimAll = true
      await sleep(Math.max(50, visibility / 4))
      return
    }
    if (claimAll) {
      // Holding the lease means no other instance commits: take everything still pending, in
      // id order, before reading anything new, so per-key order survives a takeover.
      await hold(await reader.claim(0, batchSize), true)
      await reader.forgetIdleInstances()
      claimAll = false
      nextClaimAt = Date.now() + visibility
    }
    if (needOwnPending) {
      needOwnPending = false
      await hold(await onConn(reader.readOwnPending(batchSize)), true)
    }
    if (Date.now() >= nextClaimAt) {
      await hold(await reader.claim(visibility, batchSize), true)
      nextClaimAt = Date.now() + visibility / 2
    }
    const now = Date.now()
    const due = nextDue()
    if (known.size < batchSize * 4) {
      // Work is due now: top up without blocking. Otherwise block until new entries or the next retry.
      const rewound = reader.rewound
      await hold(await onConn(reader.readNew(batchSize, due <= now ? 0 : Math.min(blockMs, due - now))), rewound)
    } else if (due > now) {
      await sleep(Math.min(due - now, blockMs))
    }
    for (let wave = readyWave(Date.now()); wave.some((w) => !w.sitOut) && running; wave = readyWave(Date.now())) {
      await handleWave(wave)
    }
  }

  const loop = async () => {
    await reader.ensureGroups()
    await bus.redis.sadd(bus.keys.streams, ...consumer.subscribes, ...(consumer.emits ?? []))
    await bus.redis.hset(bus.keys.consumers, consumer.name, JSON.stringify({ subscribes: consumer.subscribes, emits: consumer.emits ?? [] }))
    let backoff = 100
    while (running) {
      try {
        await step()
        backoff = 100
      } catch (error) {
        if (error instanceof Killed || killed) return
        if (!running) break
        if (isNoGroup(error)) {
          // Recreate below what is still held, then forget it: it comes back as new entries.
          const held = [...queues.values()].flat()
          forgetAll()
          needOwnPending = true
          await reader.recoverGroups(held).catch(() => {})
        } else if (error instanceof ReadConnectionClosed) {
          // The read connection dropped (and reconnects by itself): nothing to say.
          needOwnPending = true
        } else if (errorMessage(error).includes('timed out')) {
          // The watchdog fired on a read: the connection may be half-dead; re-make it.
          needOwnPending = true
          conn.disconnect(true)
        } else if (errorMessage(error).includes('E_LEASE_LOST') || (error as { code?: string }).code === 'E_LEASE_LOST') {
          lease.lost()
          forgetAll()
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

