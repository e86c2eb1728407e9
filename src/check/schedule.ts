import fc from 'fast-check'
import type { Driver } from './driver.js'
import type { CheckEvent } from './types.js'

/** What the commands need to know to stay legal; the real side is the driver on Redis. */
export interface ScheduleModel {
  published: number
  readonly total: number
  alive: boolean
  /** An instance is paused before its commit and may wake up later. */
  zombie: boolean
  readonly armed: Map<number, number>
  /** The operator paused the consumer by hand. */
  paused: boolean
}

export interface ScheduleReal {
  readonly driver: Driver
  readonly events: readonly CheckEvent[]
}

type Cmd = fc.AsyncCommand<ScheduleModel, ScheduleReal>

/** Publishes the next event of the sequence. */
export class Publish implements Cmd {
  check = (m: Readonly<ScheduleModel>) => m.published < m.total
  async run(m: ScheduleModel, r: ScheduleReal) {
    await r.driver.publish(r.events[m.published] as CheckEvent)
    m.published++
  }
  toString = () => 'Publish'
}

/** The live instance reads what is new and handles one step. */
export class Deliver implements Cmd {
  check = (m: Readonly<ScheduleModel>) => m.alive
  async run(_m: ScheduleModel, r: ScheduleReal) {
    await r.driver.deliver()
  }
  toString = () => 'Deliver'
}

/** Only key number k (in arrival order of the keys held) goes next: interleaves keys. */
export class Interleave implements Cmd {
  constructor(readonly k: number) {}
  check = (m: Readonly<ScheduleModel>) => m.alive
  async run(_m: ScheduleModel, r: ScheduleReal) {
    await r.driver.deliver({ key: this.k })
  }
  toString = () => `Interleave(key ${this.k})`
}

/** The producer re-sends published event #i: a new stream entry with the same event id. */
export class Duplicate implements Cmd {
  constructor(readonly i: number) {}
  check = (m: Readonly<ScheduleModel>) => this.i < m.published
  async run(_m: ScheduleModel, r: ScheduleReal) {
    await r.driver.duplicate((r.events[this.i] as CheckEvent).id)
  }
  toString = () => `Duplicate(#${this.i})`
}

/** The group is rewound to before event #i: it and later entries of its stream are delivered again. */
export class Redeliver implements Cmd {
  constructor(readonly i: number) {}
  check = (m: Readonly<ScheduleModel>) => this.i < m.published
  async run(_m: ScheduleModel, r: ScheduleReal) {
    await r.driver.redeliver((r.events[this.i] as CheckEvent).id)
  }
  toString = () => `Redeliver(#${this.i})`
}

/** The instance handles its next step and dies before committing (kill -9): lease kept, entries pending. */
export class CrashBeforeCommit implements Cmd {
  check = (m: Readonly<ScheduleModel>) => m.alive
  async run(m: ScheduleModel, r: ScheduleReal) {
    await r.driver.deliver({ crash: true })
    r.driver.kill()
    m.alive = false
  }
  toString = () => 'CrashBeforeCommit'
}

/** The instance handles its next step and freezes before committing (GC pause, SIGSTOP): it may wake later. */
export class PauseBeforeCommit implements Cmd {
  check = (m: Readonly<ScheduleModel>) => m.alive && !m.zombie
  async run(m: ScheduleModel, r: ScheduleReal) {
    await r.driver.deliver({ pause: true })
    r.driver.kill()
    m.alive = false
    m.zombie = true
  }
  toString = () => 'PauseBeforeCommit'
}

/** The paused instance wakes after another took over and tries its commit (fencing must refuse it). */
export class ZombieWakes implements Cmd {
  check = (m: Readonly<ScheduleModel>) => m.alive && m.zombie
  async run(m: ScheduleModel, r: ScheduleReal) {
    await r.driver.resumeZombie()
    m.zombie = false
  }
  toString = () => 'ZombieWakes'
}

/** The consumer group disappears while its streams stay; the live instance re-creates it as the runner does. */
export class GroupLost implements Cmd {
  check = (m: Readonly<ScheduleModel>) => m.alive
  async run(_m: ScheduleModel, r: ScheduleReal) {
    await r.driver.loseGroup()
  }
  toString = () => 'GroupLost'
}

/** The visibility timeout passes: a new instance takes the lease and claims every pending entry. */
export class Reclaim implements Cmd {
  check = (m: Readonly<ScheduleModel>) => !m.alive
  async run(m: ScheduleModel, r: ScheduleReal) {
    await r.driver.takeOver()
    m.alive = true
  }
  toString = () => 'Reclaim'
}

/** Retention runs: every input stream trimmed as far as the groups allow (maxLen 0). */
export class Trim implements Cmd {
  check = () => true
  async run(_m: ScheduleModel, r: ScheduleReal) {
    await r.driver.trim()
  }
  toString = () => 'Trim'
}

/** The next n attempts of event #i throw after the handler ran (a timeout, a flaky call). */
export class TransientFailure implements Cmd {
  constructor(
    readonly i: number,
    readonly n: number,
  ) {}
  // At most maxAttempts - 1 armed per event; the driver also holds one back on the attempt that
  // would dead-letter (the consumer's own failures count), so an injection never dead-letters.
  check = (m: Readonly<ScheduleModel>) => this.i < m.published && (m.armed.get(this.i) ?? 0) + this.n <= 2
  async run(m: ScheduleModel, r: ScheduleReal) {
    m.armed.set(this.i, (m.armed.get(this.i) ?? 0) + this.n)
    r.driver.failNext((r.events[this.i] as CheckEvent).id, this.n)
  }
  toString = () => `TransientFailure(#${this.i}, ${this.n}x)`
}

/** A dependency is down for the next n attempts (of whichever events): TransientErrors, the breaker may open. */
export class DependencyDown implements Cmd {
  constructor(readonly n: number) {}
  check = () => true
  async run(_m: ScheduleModel, r: ScheduleReal) {
    r.driver.dependencyDown(this.n)
  }
  toString = () => `DependencyDown(${this.n}x)`
}

/** The operator pauses the consumer (`pipeline pause`). */
export class PauseByHand implements Cmd {
  check = (m: Readonly<ScheduleModel>) => !m.paused
  async run(m: ScheduleModel, r: ScheduleReal) {
    await r.driver.pauseByHand()
    m.paused = true
  }
  toString = () => 'PauseByHand'
}

/** The operator resumes it (`pipeline resume`). */
export class ResumeByHand implements Cmd {
  check = (m: Readonly<ScheduleModel>) => m.paused
  async run(m: ScheduleModel, r: ScheduleReal) {
    await r.driver.resumeByHand()
    m.paused = false
  }
  toString = () => 'ResumeByHand'
}

export type ScheduleKind = 'idempotency' | 'crash' | 'ordering' | 'replay'

/** The commands each property's schedules are made of. */
/** `groupLoss`: ordering schedules may also lose the consumer group (off by default: see README). */
export function scheduleArbitrary(kind: ScheduleKind, maxEvents: number, replayPath?: string, options: { groupLoss?: boolean } = {}, maxCommands = 12): fc.Arbitrary<Iterable<Cmd>> {
  // Small indexes: most sequences are short, and a command naming an event not yet published is skipped.
  const index = fc.nat({ max: Math.max(0, Math.min(3, maxEvents - 1)) })
  const publish = fc.constant(new Publish())
  const deliver = fc.constant(new Deliver())
  // Breakers opening (a dependency down) and closing (a probe commits), or paused and resumed by
  // hand; in the idempotency and ordering schedules (crash schedules keep their shrinking as it was).
  const breakers = [fc.integer({ min: 1, max: 4 }).map((n) => new DependencyDown(n)), fc.constant(new PauseByHand()), fc.constant(new ResumeByHand())]
  const byKind: Record<ScheduleKind, fc.Arbitrary<Cmd>[]> = {
    idempotency: [publish, deliver, index.map((i) => new Duplicate(i)), index.map((i) => new Redeliver(i)), fc.tuple(index, fc.integer({ min: 1, max: 2 })).map(([i, n]) => new TransientFailure(i, n)), ...breakers],
    crash: [publish, deliver, fc.constant(new CrashBeforeCommit()), fc.constant(new Reclaim()), fc.constant(new Trim()), fc.constant(new PauseBeforeCommit()), fc.constant(new ZombieWakes()), fc.tuple(index, fc.integer({ min: 1, max: 2 })).map(([i, n]) => new TransientFailure(i, n))],
    replay: [publish, deliver],
    ordering: [publish, deliver, fc.nat({ max: 3 }).map((k) => new Interleave(k)), ...(options.groupLoss ? [fc.constant(new GroupLost())] : []), fc.tuple(index, fc.integer({ min: 1, max: 2 })).map(([i, n]) => new TransientFailure(i, n)), ...breakers],
  }
  // replayPath: fast-check's record of which commands ran in a shrunk case (needed to replay it).
  return fc.commands(byKind[kind], { maxCommands, ...(replayPath ? { replayPath } : {}) })
}

export function newModel(total: number): ScheduleModel {
  return { published: 0, total, alive: true, zombie: false, armed: new Map(), paused: false }
}
