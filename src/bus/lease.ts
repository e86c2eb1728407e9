import { randomBytes } from 'node:crypto'
import type { Bus } from './bus.js'

/**
 * A lease's token names the instance that holds it (`<instance>/<random>`), so `status` can say
 * who owns each partition from the lease alone.
 */
export function leaseToken(instance: string): string {
  return `${instance}/${randomBytes(9).toString('hex')}`
}

/** The instance holding a lease, from its value ('' for a token of no instance, e.g. an old one). */
export function leaseHolder(value: string): string {
  const slash = value.lastIndexOf('/')
  return slash < 0 ? '' : value.slice(0, slash)
}

/**
 * One active instance per consumer (per partition). The token fences commits: an instance paused past its
 * lease (SIGSTOP, a long GC) finds its commits refused once another instance took over.
 */
export class Lease {
  private held = false
  private renewedAt = 0
  /** Bumped when the lease is given up (release, lost, hand-back): a renew answered after that is stale. */
  private generation = 0
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly bus: Bus,
    private readonly key: string,
    private readonly ttlMs: number,
    readonly token: string = randomBytes(12).toString('hex'),
  ) {}

  /**
   * Takes the lease whoever holds it, and keeps it until handed back: an online rebuild fences
   * the live instance's commits so. Returns the holder's token ('' for none), for `handBack`.
   */
  async seize(): Promise<string> {
    const previous = String(await this.bus.redis.esLease(this.key, this.token, this.ttlMs, 'seize'))
    this.held = true
    this.renewedAt = Date.now()
    this.startRenewing()
    return previous
  }

  /** Gives a seized lease back to its previous holder, which goes on at once (no gap a second rebuild could mistake for "stopped"). */
  async handBack(previous: string): Promise<void> {
    this.stopRenewing()
    this.held = false
    this.generation++
    await this.bus.redis.esLease(this.key, this.token, this.ttlMs, 'handback', previous)
  }

  /** True when this instance holds the lease; tries to take it when free. */
  async ensure(): Promise<boolean> {
    // After a pause (SIGSTOP, a debugger) the renew timer has not run: don't trust `held`.
    if (this.held && Date.now() - this.renewedAt < this.ttlMs * 0.8) return true
    this.held = (await this.bus.redis.esLease(this.key, this.token, this.ttlMs, 'acquire')) === 1
    if (this.held) {
      this.renewedAt = Date.now()
      this.startRenewing()
    }
    return this.held
  }

  /** Held as far as this instance knows (ensure() checks it against the clock). */
  get holds(): boolean {
    return this.held
  }

  lost(): void {
    this.held = false
    this.generation++
  }

  private startRenewing(): void {
    if (this.timer) return
    this.timer = setInterval(() => {
      const generation = this.generation
      this.bus.redis
        .esLease(this.key, this.token, this.ttlMs, 'renew')
        .then((ok) => {
          // A renew sent before a release and answered after it must not mark the lease held again:
          // the instance would read and claim a partition another instance now owns.
          if (generation !== this.generation) return
          this.held = ok === 1
          if (this.held) this.renewedAt = Date.now()
        })
        .catch(() => {})
    }, Math.max(20, Math.floor(this.ttlMs / 3)))
    this.timer.unref()
  }

  stopRenewing(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
  }

  async release(): Promise<void> {
    this.stopRenewing()
    this.generation++
    if (!this.held) return
    this.held = false
    await this.bus.redis.esLease(this.key, this.token, this.ttlMs, 'release').catch(() => {})
  }
}
