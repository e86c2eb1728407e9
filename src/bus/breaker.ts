import { errorMessage } from '../errors.js'
import type { Bus } from './bus.js'
import type { FailureKind } from './failures.js'
import { scriptError } from './scripts.js'
import type { ConsumerDefinition } from './types.js'

/**
 * When a consumer stops taking events because its failures are not about the events (a disk
 * full, a service down), and how it probes. Either threshold opens the breaker.
 */
export interface BreakerPolicy {
  /**
   * Different events failing within `windowMs` while none that failed has since committed. Not
   * reset by other commits: in a join (deliver) the first half of each file commits without
   * touching the output, and a dependency that is down is down for every event that needs it.
   */
  readonly consecutiveFailures: number
  /** Share of different events failing over `windowMs`, once `minimumEvents` were seen there. */
  readonly failureRate: number
  readonly windowMs: number
  readonly minimumEvents: number
  /** First probe this long after opening; each failed probe doubles it, up to `probeMaxMs`. */
  readonly probeBaseMs: number
  readonly probeMaxMs: number
}

export const DEFAULT_BREAKER: BreakerPolicy = {
  consecutiveFailures: 5,
  failureRate: 0.5,
  windowMs: 30_000,
  minimumEvents: 20,
  probeBaseMs: 1_000,
  probeMaxMs: 30_000,
}

/** The consumer's policy: its `breaker` field over the defaults. */
export function breakerPolicy(consumer: ConsumerDefinition): BreakerPolicy {
  return { ...DEFAULT_BREAKER, ...consumer.breaker }
}

/** A consumer's breaker as Redis holds it. */
export type BreakerState =
  | { readonly open: false }
  | {
      readonly open: true
      /** `failures`: opened by the threshold, probes by itself; `manual`: `pipeline pause`, closed only by `resume`. */
      readonly reason: 'failures' | 'manual'
      readonly since: number
      readonly lastError: string
      /** Null when paused by hand (no probes). */
      readonly nextProbeAt: number | null
      readonly probes: number
      /** With P > 1 partitions (read through readBreaker): the partitions whose breaker is open; the fields above are the first's. */
      readonly partitions?: readonly number[]
    }

export const CLOSED: BreakerState = { open: false }

export function parseBreaker(hash: Record<string, string>): BreakerState {
  if (hash.state !== 'open') return CLOSED
  return {
    open: true,
    reason: hash.reason === 'manual' ? 'manual' : 'failures',
    since: Number(hash.since ?? 0),
    lastError: hash.lastError ?? '',
    nextProbeAt: hash.nextProbeAt === undefined || hash.nextProbeAt === '' ? null : Number(hash.nextProbeAt),
    probes: Number(hash.probes ?? 0),
  }
}

/** The breaker of one partition of a consumer: the one `bus.keys` is for (the runner's own). */
export async function readPartitionBreaker(bus: Bus, consumer: string): Promise<BreakerState> {
  return parseBreaker(await bus.redis.hgetall(bus.keys.breaker(consumer)))
}

/** A consumer's breaker: open when that of any partition is (and which ones). */
export async function readBreaker(bus: Bus, consumer: string): Promise<BreakerState> {
  if (bus.partitionCount === 1) return readPartitionBreaker(bus, consumer)
  const [state] = await readBreakers(bus, [consumer])
  if (state === null || state === undefined) throw new Error(`could not read the breaker of ${consumer}`)
  return state
}

/** Breakers are partition-local (the breaker script checks the lease in the same slot): a consumer's is all of its partitions' together. */
function mergeBreakers(states: readonly BreakerState[]): BreakerState {
  const open = states.flatMap((state, partition) => (state.open ? [{ state, partition }] : []))
  const first = open[0]
  if (first === undefined || !first.state.open) return CLOSED
  return states.length === 1 ? first.state : { ...first.state, partitions: open.map((o) => o.partition) }
}

/** The breakers of these consumers (every partition) in one round trip (a pipeline per partition: their slots differ on a cluster); null for one Redis could not read. */
export async function readBreakers(bus: Bus, consumers: readonly string[]): Promise<(BreakerState | null)[]> {
  const byPartition = await Promise.all(
    bus.partitions.map(async (keys) => {
      const p = bus.redis.pipeline()
      for (const c of consumers) p.hgetall(keys.breaker(c))
      return (await p.exec()) ?? []
    }),
  )
  return consumers.map((_, i) => {
    const states: BreakerState[] = []
    for (const replies of byPartition) {
      const [error, hash] = replies[i] ?? [null, null]
      if (error || hash === null) return null
      states.push(parseBreaker(hash as Record<string, string>))
    }
    return mergeBreakers(states)
  })
}

/** How long after a failed probe (the `probes`-th) the next one comes: doubling, with jitter. */
export function probeDelay(policy: BreakerPolicy, probes: number, random: () => number): number {
  // A quarter of jitter: instances of many consumers that opened together do not probe in step.
  const ceiling = Math.min(policy.probeMaxMs, policy.probeBaseMs * 2 ** probes)
  return Math.round(ceiling * (0.75 + 0.25 * random()))
}

/**
 * Recent failures of different events, kept in memory by the instance that holds the lease
 * (only it handles): pure but for the clock passed in.
 */
export class FailureCount {
  /** Distinct events failed (and when) since an event that had failed last committed. */
  private readonly inRow = new Map<string, number>()
  /** Within the window: when each distinct event last failed, and when commits happened. */
  private readonly failedAt = new Map<string, number>()
  /** One entry per wave committed (not per event: a busy consumer commits thousands a second), and their sum. */
  private readonly commits: { at: number; count: number }[] = []
  private commitTotal = 0

  constructor(private readonly policy: BreakerPolicy) {}

  /** `recovered`: an event among them had failed before, so the world is right again. */
  committed(count: number, now: number, recovered: boolean): void {
    if (recovered) this.inRow.clear()
    if (count > 0) {
      this.commits.push({ at: now, count })
      this.commitTotal += count
    }
    this.trim(now)
  }

  /** Counts a failure of event `id`; true when a threshold is crossed. */
  failed(id: string, now: number): boolean {
    this.inRow.set(id, now)
    this.failedAt.set(id, now)
    this.trim(now)
    if (this.inRow.size >= this.policy.consecutiveFailures) return true
    const seen = this.failedAt.size + this.commitTotal
    return seen >= this.policy.minimumEvents && this.failedAt.size / seen >= this.policy.failureRate
  }

  reset(): void {
    this.inRow.clear()
    this.failedAt.clear()
    this.commits.length = 0
    this.commitTotal = 0
  }

  private trim(now: number): void {
    const from = now - this.policy.windowMs
    for (const [id, at] of this.failedAt) if (at < from) this.failedAt.delete(id)
    for (const [id, at] of this.inRow) if (at < from) this.inRow.delete(id)
    while (this.commits.length > 0 && this.commits[0]!.at < from) this.commitTotal -= this.commits.shift()!.count
  }
}

type Op = 'open' | 'probe-failed' | 'close' | 'pause' | 'resume'

async function change(bus: Bus, consumer: string, op: Op, token: string, now: number, lastError = '', nextProbeAt = '', keys = bus.keys): Promise<boolean> {
  const reply = Number(await bus.redis.esBreaker(keys.breaker(consumer), keys.stats(consumer), keys.lease(consumer), op, token, now, lastError.slice(0, 500), nextProbeAt))
  const refused = scriptError([reply], consumer)
  if (refused) throw refused
  return reply === 1
}

/**
 * One instance's view of its consumer's breaker, for the WaveEngine: it counts failures, opens
 * the breaker, lets one probe through when its time comes and closes it when the probe commits.
 * Redis holds the state; `refresh` reads what another instance or `pipeline pause` wrote.
 */
export class ConsumerBreaker {
  readonly policy: BreakerPolicy
  private readonly count: FailureCount
  private current: BreakerState = CLOSED

  constructor(
    private readonly bus: Bus,
    private readonly consumer: ConsumerDefinition,
    private readonly token: string,
    private readonly random: () => number,
    override: Partial<BreakerPolicy> = {},
  ) {
    this.policy = { ...breakerPolicy(consumer), ...override }
    this.count = new FailureCount(this.policy)
  }

  get state(): BreakerState {
    return this.current
  }

  async refresh(): Promise<BreakerState> {
    const was = this.current
    this.current = await readPartitionBreaker(this.bus, this.consumer.name)
    // Closed by hand: start counting afresh, not from the failures that opened it.
    if (was.open && !this.current.open) this.count.reset()
    return this.current
  }

  /** True when only one probe may go, and it may go now. */
  probeDue(now: number): boolean {
    return this.current.open && this.current.nextProbeAt !== null && this.current.nextProbeAt <= now
  }

  /** When the next probe is due (Infinity when closed or paused by hand). */
  nextProbeAt(): number {
    return this.current.open ? (this.current.nextProbeAt ?? Number.POSITIVE_INFINITY) : Number.NEGATIVE_INFINITY
  }

  /** Events committed: a probe among them closes the breaker; one that had failed starts the count in a row again. */
  async committed(count: number, now: number, probe: boolean, recovered: boolean): Promise<void> {
    this.count.committed(count, now, recovered || probe)
    if (probe && this.current.open && this.current.reason === 'failures') {
      await change(this.bus, this.consumer.name, 'close', this.token, now)
      await this.refresh()
    }
  }

  /**
   * A failure of event `id` of this kind (`probe`: the one event let through while open).
   * Poison does not count. Returns whether the breaker is open now.
   */
  async failed(id: string, kind: FailureKind, error: unknown, now: number, probe: boolean): Promise<boolean> {
    if (kind === 'poison') return this.current.open
    const message = errorMessage(error)
    if (this.current.open) {
      if (probe && this.current.reason === 'failures') {
        const next = now + probeDelay(this.policy, this.current.probes + 1, this.random)
        await change(this.bus, this.consumer.name, 'probe-failed', this.token, now, message, String(next))
        await this.refresh()
      }
      return true
    }
    if (!this.count.failed(id, now)) return false
    const next = now + probeDelay(this.policy, 0, this.random)
    await change(this.bus, this.consumer.name, 'open', this.token, now, message, String(next))
    this.bus.warn(`consumer ${this.consumer.name}: breaker open after failures of different events (${message}); nothing is dead-lettered while it is open, the first probe in ${Math.round((next - now) / 100) / 10} s`)
    await this.refresh()
    return true
  }
}

/** `pipeline pause --consumer X`: opens the breaker by hand (maintenance); only `resume` closes it. */
export async function pauseConsumer(bus: Bus, consumer: string, now = Date.now()): Promise<{ changed: boolean; state: BreakerState }> {
  const changed = await everyPartition(bus, (keys) => change(bus, consumer, 'pause', '', now, 'paused by hand (pipeline pause)', '', keys))
  return { changed, state: await readBreaker(bus, consumer) }
}

/** `pipeline resume --consumer X`: closes the breaker, opened by failures or by hand. */
export async function resumeConsumer(bus: Bus, consumer: string, now = Date.now()): Promise<{ changed: boolean; state: BreakerState }> {
  const changed = await everyPartition(bus, (keys) => change(bus, consumer, 'resume', '', now, '', '', keys))
  return { changed, state: await readBreaker(bus, consumer) }
}

/** Pause and resume act on every partition's breaker (one script call each: different slots); true when any changed. */
async function everyPartition(bus: Bus, act: (keys: Bus['keys']) => Promise<boolean>): Promise<boolean> {
  return (await Promise.all(bus.partitions.map(act))).some(Boolean)
}
