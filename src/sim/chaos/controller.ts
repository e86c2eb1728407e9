import { setTimeout as sleep } from 'node:timers/promises'
import type { Bus, ConsumerDefinition } from '../../bus/index.js'
import { forEachMaster, type OwnedRedis, type RedisClient } from '../../redis/index.js'
import { STAGE } from '../../pipeline/stages/names.js'
import { blockOutputFolder } from './dependency.js'
import { injectPoison, type PoisonEntry } from './poison.js'
import { caughtUp, readingsOf, readTips, type Tips } from './recovery.js'
import { describeFault, type ChaosFaultKind, type PlannedFault } from './schedule.js'
import type { WorkerPool, WorkerProcess } from '../workers.js'

/** One injected fault as the report shows it. */
export interface FaultRecord {
  readonly kind: ChaosFaultKind
  /** The stage a worker fault hit; null for faults of Redis or of every client. */
  readonly stage: string | null
  readonly description: string
  /** When it was injected, ms after the first file was published. */
  readonly atMs: number
  /** How long the fault itself lasted (a pause's hold, a restart), from injection. */
  readonly faultMs: number
  /**
   * From injection until every group it touched had handled all the work the fault caught in
   * flight and what arrived while it lasted; null if that did not happen within the timeout.
   */
  readonly recoveredMs: number | null
  readonly detail: string
  /** Why the fault did not test what it names (e.g. no worker had entries in hand); null when it did. */
  readonly missed: string | null
}

export interface ControllerOptions {
  /** A bus on the run's namespace, for the controller's own reads. */
  readonly bus: Bus
  /** A plain connection kept out of CLIENT KILL (SKIPME). */
  readonly control: RedisClient
  readonly redis: OwnedRedis
  readonly pool: WorkerPool
  readonly consumers: readonly ConsumerDefinition[]
  readonly schedule: readonly PlannedFault[]
  /** deliver's output folder (the "dependency down" fault makes it unwritable). */
  readonly outDir: string
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
    const mark = async (affected: readonly ConsumerDefinition[]): Promise<Injection> => ({ affected, tips: await readTips(bus, readingsOf(bus, affected)), atMs: performance.now() })
    switch (fault.kind) {
      case 'worker-kill': {
        const frozen = await this.freezeBusyWorker(fault.stage)
        const at = await mark(only(fault.stage))
        if (frozen === null) return this.settle(fault, at, '', `no ${fault.stage} worker reached a commit within ${BUSY_WAIT_MS / 1000} s`)
        await pool.kill(frozen.worker)
        await sleep(fault.restartAfterMs)
        await pool.start(fault.stage)
        return this.settle(fault, at, `pid ${frozen.worker.child.pid} killed holding ${frozen.pending} handled events, not yet committed`)
      }
      case 'worker-pause': {
        if (pool.live(fault.stage).length < 2) await pool.start(fault.stage)
        const frozen = await this.freezeBusyWorker(fault.stage)
        const at = await mark(only(fault.stage))
        if (frozen === null) return this.settle(fault, at, '', `no ${fault.stage} worker reached a commit within ${BUSY_WAIT_MS / 1000} s`)
        // The stopped process cannot finish what it holds: caught up before the resume means the standby took over.
        const takenOver = this.recovery(at.tips, at.atMs, fault.holdMs)
        await sleep(fault.holdMs)
        pool.resume(frozen.worker)
        const tookOverMs = await takenOver
        const record = await this.settle(
          fault,
          at,
          `pid ${frozen.worker.child.pid} stopped holding ${frozen.pending} handled events, not yet committed` + (tookOverMs === null ? '' : `; the standby had them done ${(tookOverMs / 1000).toFixed(1)} s in`),
          tookOverMs === null ? `the standby had not taken over the ${fault.stage} work when the stopped worker was resumed` : null,
        )
        await pool.retire(frozen.worker)
        return record
      }
      case 'client-kill': {
        const at = await mark(consumers)
        const killed = (await forEachMaster(this.options.control, async (node) => Number(await node.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes')))).reduce((a, b) => a + b, 0)
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
      case 'dependency-down': {
        const at = await mark(only(STAGE.deliver))
        const stats = bus.keys.stats(STAGE.deliver)
        const before = await bus.redis.hmget(stats, 'retries', 'breakerOpened')
        const restore = await blockOutputFolder(this.options.outDir)
        await sleep(fault.holdMs)
        const during = await bus.redis.hmget(stats, 'retries', 'breakerOpened')
        await restore()
        const failed = Number(during[0] ?? 0) - Number(before[0] ?? 0)
        const opened = Number(during[1] ?? 0) - Number(before[1] ?? 0)
        // No dead letter may come of it: checkDeadLetters counts any but the poison as a violation.
        return this.settle(
          fault,
          at,
          `${failed} transient failures of deliver, its breaker opened ${opened} time(s)`,
          failed === 0 ? 'deliver wrote nothing while its output folder was unwritable (no traffic reached it)' : null,
        )
      }
      case 'poison-burst': {
        const atMs = performance.now()
        const entries = await injectPoison(bus, fault.count, fault.types)
        this.poison.push(...entries)
        const affected = consumers.filter((c) => c.subscribes.some((t) => fault.types.includes(t)))
        const tips = await readTips(bus, readingsOf(bus, affected))
        return this.settle(fault, { affected, tips, atMs }, `${entries.length} entries`)
      }
    }
  }

  /**
   * The fault is over: recovered once the groups handled what the fault caught (the tips at
   * injection) and what arrived while it lasted (the tips now). The second part keeps a fault
   * that hit idle groups from counting as recovered before any worker is back.
   */
  private async settle(fault: PlannedFault, at: Injection, detail: string, missed: string | null = null): Promise<FaultRecord> {
    const faultMs = performance.now() - at.atMs
    const healed = await readTips(this.options.bus, readingsOf(this.options.bus, at.affected))
    const timeout = this.options.recoveryTimeoutMs ?? 120_000
    const first = await this.recovery(at.tips, at.atMs, timeout)
    const both = first === null ? null : await this.recovery(healed, at.atMs, timeout)
    return {
      kind: fault.kind,
      stage: 'stage' in fault ? fault.stage : null,
      description: describeFault(fault),
      atMs: Math.round(at.atMs - this.startedAt),
      faultMs: Math.round(faultMs),
      recoveredMs: both === null ? null : Math.round(both),
      detail,
      missed,
    }
  }

  /** ms from `sinceMs` until the groups caught up with the tips; null if not within `withinMs` of now. */
  private async recovery(tips: Tips, sinceMs: number, withinMs: number): Promise<number | null> {
    const deadline = performance.now() + withinMs
    for (;;) {
      if (await caughtUp(this.options.bus, tips)) return performance.now() - sinceMs
      if (performance.now() >= deadline) return null
      await sleep(25)
    }
  }

  /**
   * Asks the stage's workers to stop right before their next commit (the hold key), waits for
   * one to say it holds a handled wave, and SIGSTOPs it there: a kill or pause of it then lands
   * mid-batch, for sure. The hold is lifted at once, so a standby is not held too.
   */
  private async freezeBusyWorker(stage: string): Promise<{ worker: WorkerProcess; pending: number } | null> {
    const { bus, pool } = this.options
    const [hold, held] = [bus.keys.chaosHold(stage), bus.keys.chaosHeld(stage)]
    await bus.redis.del(held)
    await bus.redis.set(hold, '1')
    try {
      const deadline = performance.now() + BUSY_WAIT_MS
      while (performance.now() < deadline) {
        const [pid, events] = ((await bus.redis.get(held)) ?? '').split(' ').map(Number)
        const worker = pool.live(stage).find((w) => w.child.pid === pid)
        if (worker !== undefined) {
          pool.pause(worker)
          return { worker, pending: events ?? 0 }
        }
        await sleep(10)
      }
      return null
    } finally {
      await bus.redis.del(hold, held)
    }
  }
}

interface Injection {
  readonly affected: readonly ConsumerDefinition[]
  readonly tips: Tips
  readonly atMs: number
}

/** How long a worker fault waits for a worker of its stage to reach a commit. */
const BUSY_WAIT_MS = 10_000
