import { setTimeout as sleep } from 'node:timers/promises'
import type { Redis } from 'ioredis'
import type { Bus, ConsumerDefinition } from '../../bus/index.js'
import type { OwnedRedis } from '../../redis/index.js'
import { injectPoison, type PoisonEntry } from './poison.js'
import { caughtUp, readingsOf, readTips, type Tips } from './recovery.js'
import { describeFault, type ChaosFaultKind, type PlannedFault } from './schedule.js'
import type { WorkerPool, WorkerProcess } from './workers.js'

/** One injected fault as the report shows it. */
export interface FaultRecord {
  readonly kind: ChaosFaultKind
  /** The stage a worker fault hit; null for faults of Redis or of every client. */
  readonly stage: string | null
  readonly description: string
  /** When it was injected, ms after the first file was published. */
  readonly atMs: number
  /** How long until every group had handled all the work the fault caught in flight; null if it never did. */
  readonly recoveredMs: number | null
  readonly detail: string
}

export interface ControllerOptions {
  /** A bus on the run's namespace, for the controller's own reads. */
  readonly bus: Bus
  /** A plain connection kept out of CLIENT KILL (SKIPME). */
  readonly control: Redis
  readonly redis: OwnedRedis
  readonly pool: WorkerPool
  readonly consumers: readonly ConsumerDefinition[]
  readonly schedule: readonly PlannedFault[]
  /** Standbys started ahead for the stages a worker-pause hits (so the fault meets traffic, not a start-up). */
  readonly standbys: ReadonlyMap<string, WorkerProcess>
  /** Give up waiting for a fault to recover after this long. Default 120 s. */
  readonly recoveryTimeoutMs?: number
  readonly onFault?: (record: FaultRecord) => void
}

/**
 * Injects the scheduled faults while the load driver publishes. Fault i fires once its share of
 * the day's files is published; publishing past the next fault's point waits until fault i has
 * recovered, so every fault meets traffic and no two overlap.
 */
export class ChaosController {
  readonly faults: FaultRecord[] = []
  readonly poison: PoisonEntry[] = []
  private next = 0
  private current: Promise<void> = Promise.resolve()
  private failure: unknown
  private startedAt = 0

  constructor(private readonly options: ControllerOptions) {}

  /** The load driver's beforePublish hook: fires due faults; returns how many files may go before the next one. */
  async beforePublish(published: number, total: number): Promise<number | undefined> {
    if (this.startedAt === 0) this.startedAt = performance.now()
    const schedule = this.options.schedule
    while (this.next < schedule.length && (schedule[this.next] as PlannedFault).atFraction * total <= published) {
      await this.current
      this.throwIfFailed()
      const fault = schedule[this.next++] as PlannedFault
      this.current = this.inject(fault).then(
        (record) => {
          this.faults.push(record)
          this.options.onFault?.(record)
        },
        (error: unknown) => {
          this.failure = error
        },
      )
    }
    const upcoming = schedule[this.next]
    return upcoming === undefined ? undefined : Math.ceil(upcoming.atFraction * total) - published
  }

  /** Waits for the last fault to recover; throws if injecting one failed. */
  async finish(): Promise<void> {
    await this.current
    this.throwIfFailed()
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure
  }

  private async inject(fault: PlannedFault): Promise<FaultRecord> {
    const { bus, pool, redis, consumers } = this.options
    const only = (name: string) => consumers.filter((c) => c.name === name)
    // Where the affected groups' streams end as the fault hits: recovered once all of it is handled.
    const mark = async (affected: readonly ConsumerDefinition[]) => ({ tips: await readTips(bus, readingsOf(bus, affected)), atMs: performance.now() })
    switch (fault.kind) {
      case 'worker-kill': {
        const pending = await this.waitForPending(fault.stage)
        const at = await mark(only(fault.stage))
        await pool.kill(fault.stage)
        await sleep(fault.restartAfterMs)
        await pool.start(fault.stage)
        return this.settle(fault, at, `${pending} entries pending at the kill`)
      }
      case 'worker-pause': {
        const standby = this.options.standbys.get(fault.stage) ?? (await pool.start(fault.stage, 'standby'))
        const pending = await this.waitForPending(fault.stage)
        const at = await mark(only(fault.stage))
        pool.pause(fault.stage)
        await sleep(fault.holdMs)
        pool.resume(fault.stage)
        const record = await this.settle(fault, at, `${pending} entries pending at the pause`)
        await pool.handOver(fault.stage, standby)
        return record
      }
      case 'client-kill': {
        const at = await mark(consumers)
        const killed = (await this.options.control.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes')) as number
        return this.settle(fault, at, `${killed} connections killed`)
      }
      case 'redis-pause': {
        const at = await mark(consumers)
        redis.pause()
        await sleep(fault.holdMs)
        redis.resume()
        return this.settle(fault, at, '')
      }
      case 'redis-restart':
      case 'redis-kill': {
        const at = await mark(consumers)
        await redis.restart(fault.kind === 'redis-kill' ? 'kill' : 'graceful')
        return this.settle(fault, at, '')
      }
      case 'poison-burst': {
        const atMs = performance.now()
        const entries = await injectPoison(bus, fault.count, fault.types)
        this.poison.push(...entries)
        const tips = await readTips(bus, readingsOf(bus, consumers.filter((c) => c.subscribes.some((t) => fault.types.includes(t)))))
        return this.settle(fault, { tips, atMs }, `${entries.length} entries`)
      }
    }
  }

  /** Waits for recovery (ms from `atMs` until caught up with the tips; null after the timeout). */
  private async settle(fault: PlannedFault, at: { tips: Tips; atMs: number }, detail: string): Promise<FaultRecord> {
    const deadline = performance.now() + (this.options.recoveryTimeoutMs ?? 120_000)
    let recoveredMs: number | null = null
    while (performance.now() < deadline) {
      if (await caughtUp(this.options.bus, at.tips)) {
        recoveredMs = Math.round(performance.now() - at.atMs)
        break
      }
      await sleep(50)
    }
    return {
      kind: fault.kind,
      stage: 'stage' in fault ? fault.stage : null,
      description: describeFault(fault),
      atMs: Math.round(at.atMs - this.startedAt),
      recoveredMs,
      detail,
    }
  }

  /** Waits (up to 3 s) until the stage has entries in hand, so a kill or pause lands mid-batch. */
  private async waitForPending(stage: string): Promise<number> {
    const { bus, consumers } = this.options
    const streams = consumers.find((c) => c.name === stage)?.subscribes.map((t) => bus.keys.stream(t)) ?? []
    const deadline = performance.now() + 3_000
    let pending = 0
    do {
      const p = bus.redis.pipeline()
      for (const s of streams) p.xpending(s, bus.keys.group(stage))
      const replies = (await p.exec()) ?? []
      pending = replies.reduce((a, [error, reply]) => a + (error ? 0 : Number((reply as [number])[0] ?? 0)), 0)
      if (pending > 0) return pending
      await sleep(5)
    } while (performance.now() < deadline)
    return pending
  }
}
