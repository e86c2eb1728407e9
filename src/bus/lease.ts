import { randomBytes } from 'node:crypto'
import type { Bus } from './bus.js'

/**
 * One active instance per consumer. The token fences commits: an instance paused past its
 * lease (SIGSTOP, a long GC) finds its commits refused once another instance took over.
 */
export class Lease {
  readonly token = randomBytes(12).toString('hex')
  private held = false
  private renewedAt = 0
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly bus: Bus,
    private readonly key: string,
    private readonly ttlMs: number,
  ) {}

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

  lost(): void {
    this.held = false
  }

  private startRenewing(): void {
    if (this.timer) return
    this.timer = setInterval(() => {
      this.bus.redis
        .esLease(this.key, this.token, this.ttlMs, 'renew')
        .then((ok) => {
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
    if (!this.held) return
    this.held = false
    await this.bus.redis.esLease(this.key, this.token, this.ttlMs, 'release').catch(() => {})
  }
}
