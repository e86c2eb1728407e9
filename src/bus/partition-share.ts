import { redisTimeMs } from '../redis/clock.js'
import type { Bus } from './bus.js'
import { RunnerMetrics } from './metrics.js'
import { instanceName, startRunner, type PartitionGate, type Runner, type RunnerOptions } from './runner.js'
import type { ConsumerDefinition } from './types.js'

/**
 * The partitions an instance may hold: the live instances of a consumer, sorted by name, each
 * get floor(P / N), and the first P mod N one more. The quotas add up to P, so every partition
 * finds an owner and every instance with P >= N owns at least one (ceil(P / N) for all would let
 * two instances take everything and leave a third idle).
 */
export function quotaOf(instance: string, live: readonly string[], partitions: number): number {
  const sorted = [...new Set([...live, instance])].sort()
  const rank = sorted.indexOf(instance)
  return Math.floor(partitions / sorted.length) + (rank < partitions % sorted.length ? 1 : 0)
}

/**
 * One instance's share of a consumer's partitions. It says it is alive in the consumer's global
 * `instances` hash, on Redis's clock, every quarter of the visibility timeout; an instance not
 * seen for a visibility timeout is dead (its leases have expired by then too), so its partitions
 * are taken. A graceful stop removes the row at once, so the others take over at their next beat.
 */
export class PartitionShare implements PartitionGate {
  private readonly held = new Set<number>()
  private readonly reserved = new Set<number>()
  /** Unknown until the first beat answers: nothing is taken before. */
  private quota = 0
  private readonly timer: NodeJS.Timeout

  constructor(
    private readonly bus: Bus,
    private readonly consumer: string,
    readonly instance: string,
    private readonly visibilityMs: number,
  ) {
    this.timer = setInterval(() => this.tick(), Math.max(50, Math.floor(visibilityMs / 4)))
    this.timer.unref()
    this.tick()
  }

  /** The partitions this instance holds now. */
  get owned(): readonly number[] {
    return [...this.held].sort((a, b) => a - b)
  }

  mayTake(partition: number): boolean {
    if (this.held.has(partition)) return true
    if (this.held.size + this.reserved.size >= this.quota) return false
    this.reserved.add(partition)
    return true
  }

  /** One partition at a time, the highest: every runner asks, only one hands back per beat of change. */
  mustGive(partition: number): boolean {
    return this.held.size > this.quota && partition === Math.max(...this.held)
  }

  report(partition: number, held: boolean): void {
    this.reserved.delete(partition)
    if (held) this.held.add(partition)
    else this.held.delete(partition)
  }

  /** Stops beating; `leave` removes the instance's row (a graceful stop), else it ages out (a kill). */
  async stop(leave: boolean): Promise<void> {
    clearInterval(this.timer)
    if (leave) await this.bus.redis.hdel(this.bus.keys.instances(this.consumer), this.instance).catch(() => {})
  }

  private tick(): void {
    // A missed beat (Redis restarting) keeps the last quota; the leases fence any overlap.
    void this.beat().catch(() => {})
  }

  private async beat(): Promise<void> {
    const key = this.bus.keys.instances(this.consumer)
    const now = await redisTimeMs(this.bus.redis)
    const [, rows] = (await this.bus.redis.multi().hset(key, this.instance, String(now)).hgetall(key).exec()) ?? []
    const seen = (rows?.[1] ?? {}) as Record<string, string>
    const live = Object.entries(seen).filter(([, at]) => now - Number(at) <= this.visibilityMs).map(([name]) => name)
    // Rows of instances long dead are litter: whoever beats sweeps them.
    const dead = Object.entries(seen).filter(([, at]) => now - Number(at) > 10 * this.visibilityMs).map(([name]) => name)
    if (dead.length > 0) await this.bus.redis.hdel(key, ...dead)
    this.quota = quotaOf(this.instance, live, this.bus.partitionCount)
  }
}

/**
 * A consumer on a bus of P > 1 partitions: one runner per partition on its view (`partitionBus`),
 * each with its own lease, fencing token and claims, all under one instance name and one share.
 * Seen from outside it is one Runner (metrics summed), so hosts stay as they are.
 */
export function startSharedRunners(bus: Bus, views: readonly Bus[], consumer: ConsumerDefinition, options: RunnerOptions): Runner {
  const visibility = options.visibilityTimeoutMs ?? 10_000
  const instance = instanceName(consumer.name)
  const metrics = new RunnerMetrics()
  const share = new PartitionShare(bus, consumer.name, instance, visibility)
  const runners = views.map((view) => startRunner(view, consumer, options, { instance, metrics, share }))
  let killed = false
  const done = Promise.all(runners.map((r) => r.done)).then(() => share.stop(!killed))
  return {
    consumer,
    instance,
    metrics,
    owned: () => runners.flatMap((r) => r.owned()),
    done,
    async stop() {
      await Promise.all(runners.map((r) => r.stop()))
      await done
    },
    kill() {
      killed = true
      for (const r of runners) r.kill()
      void share.stop(false)
    },
  }
}
