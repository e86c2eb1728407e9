import { pauseConsumer, readBreaker, resumeConsumer } from '../bus/breaker.js'
import type { Bus } from '../bus/bus.js'
import { commitBatch } from '../bus/commit.js'
import type { ContractChecker } from '../bus/contracts.js'
import type { Effects } from '../bus/context.js'
import { TransientError } from '../bus/failures.js'
import { publishEvents } from '../bus/publish.js'
import { trimStream } from '../bus/retention.js'
import { GroupReader, type Held } from '../bus/reader.js'
import type { RetryPolicy } from '../bus/retry.js'
import type { ScriptClient } from '../bus/scripts.js'
import type { ConsumerDefinition } from '../bus/types.js'
import { WaveEngine, orderKeyOf, type Handled } from '../bus/wave-engine.js'
import { encodeEvent, type EventEnvelope } from '../events/envelope.js'
import { errorMessage } from '../errors.js'
import { checkBus, rewindGroup } from './bus-view.js'
import type { CheckEvent } from './types.js'

/** `sequential`: one event at a time, oldest first. `waves`: every key's head at once, as the runner does. */
export type DriverMode = 'sequential' | 'waves'

export interface DriverOptions {
  readonly redis: ScriptClient
  readonly contracts: ContractChecker
  readonly namespace: string
  readonly consumer: ConsumerDefinition
  /** A new instance of the consumer, as a new process would build it after a crash (memory gone, disk kept). */
  readonly respawn?: () => ConsumerDefinition
  readonly retry: RetryPolicy
  readonly mode: DriverMode
  /** Names an event in the story, e.g. `#2 validated c1`. */
  readonly label: (id: string) => string
  readonly trace?: (line: string) => void
}

interface Instance {
  readonly token: string
  readonly reader: GroupReader
  readonly engine: WaveEngine
  dead: boolean
}

/** Faults the schedule injects; each is counted only when it took place. */
export type FaultKind =
  | 're-sent event'
  | 'redelivery'
  | 'injected failure'
  | 'crash before commit'
  | 'pause before commit'
  | 'takeover'
  | 'retention trim'
  | 'group loss'
  | 'dependency-down failure'
  | 'breaker opening'
  | 'pause by hand'

/** Where a step stops after handling: a crash (kill -9) or a pause (GC, SIGSTOP) before its commit. */
type Stop = 'crash' | 'pause'

/**
 * A deterministic stand-in for one consumer's Runner: the runner's own WaveEngine (holding,
 * waves, commit, retries and dead letters) and the same reads (XREADGROUP, XAUTOCLAIM), but the
 * schedule decides when to read, which key goes next, when to crash and when to take over, so
 * a run takes milliseconds instead of visibility timeouts and block times.
 */
export class Driver {
  readonly bus: Bus
  /** Input event ids in commit order, with their stream and ordering key (duplicates included). */
  readonly commits: { id: string; streamKey: string; orderKey: string }[] = []
  /** Every key this run made (so cleanup needs no SCAN): streams, index, state written through ctx. */
  readonly touched = new Set<string>()
  /** How often the handler was called, per input event id. */
  readonly calls = new Map<string, number>()
  /** Injected failures: event id -> attempts left that throw after the handler ran. */
  readonly transient = new Map<string, number>()
  /** Event ids whose handler always throws (before running). */
  readonly poison = new Set<string>()
  /** The next this many attempts, of any event, throw a TransientError before the handler runs (a dependency down). */
  private down = 0
  /** The faults this run actually injected (what a label may name), counted by kind. */
  readonly faults = new Map<FaultKind, number>()
  private readonly entries = new Map<string, { streamKey: string; entryId: string; event: CheckEvent }>()
  private instance: Instance | undefined
  /** An instance paused between handling and commit (a long GC, SIGSTOP), with what it will try to commit. */
  private zombie: { instance: Instance; done: readonly Handled[] } | undefined
  private instances = 0
  /** Arrival order of held entries: sequential mode handles the oldest head first. */
  private readonly arrival = new WeakMap<Held, number>()
  private seq = 0
  /** Set for one step: it handles, then stops before committing. */
  private stop: Stop | undefined

  constructor(private readonly options: DriverOptions) {
    this.consumer = options.consumer
    this.bus = checkBus(options.namespace, options.redis, options.contracts)
  }

  /** The consumer instance now running (a takeover after a crash builds a new one). */
  consumer: ConsumerDefinition

  private say(line: string): void {
    this.options.trace?.(line)
  }

  private count(kind: FaultKind): void {
    this.faults.set(kind, (this.faults.get(kind) ?? 0) + 1)
  }

  async start(): Promise<void> {
    const { redis, keys } = this.bus
    const name = this.consumer.name
    for (const key of [keys.inbox(name), keys.stats(name), keys.attempts(name), keys.deadLetters(name), keys.lease(name), keys.breaker(name), keys.streams]) this.touched.add(key)
    await Promise.all(
      this.consumer.subscribes.map((type) => {
        this.touched.add(keys.stream(type))
        return redis.xgroup('CREATE', keys.stream(type), keys.group(name), '0', 'MKSTREAM').catch((error: unknown) => {
          if (!errorMessage(error).includes('BUSYGROUP')) throw error
        })
      }),
    )
    await this.takeOver()
  }

  async publish(event: CheckEvent): Promise<void> {
    this.touched.add(this.bus.keys.published(event.id)).add(this.bus.keys.correlation(event.correlationId))
    const [published] = await publishEvents(this.bus, [event])
    if (published?.entryId) this.entries.set(event.id, { streamKey: this.bus.keys.stream(event.type), entryId: published.entryId, event })
    this.say(`publish ${this.options.label(event.id)}`)
  }

  /** The producer sends the same event again after publish's dedup window: a new entry, the same id. */
  async duplicate(id: string): Promise<void> {
    const entry = this.entries.get(id)
    if (!entry) return
    await this.bus.redis.xadd(entry.streamKey, '*', ...encodeEvent(entry.event))
    this.count('re-sent event')
    this.say(`producer re-sends ${this.options.label(id)} (same event id, new stream entry)`)
  }

  /**
   * The group is rewound to just before event #i's entry (as `recoverGroups` does after Redis
   * lost its data): that entry and every later one of its stream are delivered again, committed
   * or not, and go through holding, retries and the inbox like any other entry.
   */
  async redeliver(id: string): Promise<void> {
    const entry = this.entries.get(id)
    if (!entry) return
    if (!(await rewindGroup(this.bus, entry.streamKey, this.bus.keys.group(this.consumer.name), entry.entryId))) return
    this.count('redelivery')
    this.say(`group rewound to before ${this.options.label(id)}: it and later entries of its stream are delivered again`)
  }

  /** Arms `attempts` failures of an event: its handler runs, then the attempt throws. */
  failNext(id: string, attempts: number): void {
    this.transient.set(id, (this.transient.get(id) ?? 0) + attempts)
    this.say(`arm ${attempts} transient failure(s) for ${this.options.label(id)}`)
  }

  /** The dependency is down for the next `attempts` attempts, whatever the event: each throws a TransientError. */
  dependencyDown(attempts: number): void {
    this.down += attempts
    this.say(`the dependency goes down for the next ${attempts} attempt(s)`)
  }

  /** The operator pauses the consumer (`pipeline pause`): its breaker opens by hand, no probes. */
  async pauseByHand(): Promise<void> {
    if ((await pauseConsumer(this.bus, this.consumer.name)).changed) this.count('pause by hand')
    this.say('the operator pauses the consumer (pipeline pause): nothing is handled until resume')
  }

  /** The operator resumes the consumer (`pipeline resume`): its breaker closes, however it opened. */
  async resumeByHand(): Promise<void> {
    await resumeConsumer(this.bus, this.consumer.name)
    this.say('the operator resumes the consumer (pipeline resume)')
  }

  orderKey(event: EventEnvelope): string {
    return orderKeyOf(this.consumer, event)
  }

  /** Reads what is new, then handles one step: the oldest head (sequential), every head (waves), or key #k. */
  async deliver(options: { key?: number; crash?: boolean; pause?: boolean } = {}): Promise<boolean> {
    const instance = this.instance
    if (instance === undefined || instance.dead) return false
    const rewound = instance.reader.rewound
    await instance.engine.hold(await instance.reader.readNew(200, 0), rewound)
    // Every head, due or not: the schedule, not the clock, says when a retry (or a probe) comes.
    // An open breaker lets one head through as its probe; one opened by hand, none.
    await instance.engine.refreshBreaker()
    const heads = instance.engine.admit(instance.engine.heads(), Number.POSITIVE_INFINITY)
    if (heads.length === 0) return false
    const oldest = heads.reduce((a, b) => ((this.arrival.get(b) ?? 0) < (this.arrival.get(a) ?? 0) ? b : a))
    const chosen = options.key !== undefined ? [heads[options.key % heads.length] as Held] : this.options.mode === 'waves' ? heads : [oldest]
    // As the runner: a deferred head whose footprint overlaps an earlier one's sits out.
    const wave = instance.engine.wave(chosen)
    const names = wave.map((w) => this.options.label((w.held.event as EventEnvelope).id)).join(', ')
    this.stop = options.pause === true ? 'pause' : options.crash === true ? 'crash' : undefined
    if (wave.length > 1 && this.stop === undefined) this.say(`wave: ${names} handled concurrently`)
    if (this.stop !== undefined) this.count(this.stop === 'pause' ? 'pause before commit' : 'crash before commit')
    if (!(await instance.engine.run(wave))) this.say(`handle ${names}, then ${this.stop} before commit (lease kept, entries stay pending)`)
    this.stop = undefined
    return true
  }

  /** The visibility timeout passed: a new instance takes the lease and claims every pending entry. */
  async takeOver(): Promise<void> {
    const { redis, keys } = this.bus
    const name = `${this.consumer.name}@check-${++this.instances}`
    const token = `check-token-${this.instances}`
    if (this.instances > 1) {
      await redis.del(keys.lease(this.consumer.name))
      if (this.instance?.dead && this.options.respawn) this.consumer = this.options.respawn()
    }
    await redis.esLease(keys.lease(this.consumer.name), token, 60_000, 'acquire')
    const reader = new GroupReader(this.bus, keys.group(this.consumer.name), name, this.consumer.subscribes.map((t) => keys.stream(t)), this.options.redis)
    const instance: Instance = { token, reader, engine: this.engine(token, reader, () => instance), dead: false }
    this.instance = instance
    if (this.instances === 1) return // a new group: nothing pending yet
    const claimed = await reader.claim(0, 200)
    this.count('takeover')
    this.say(`instance ${this.instances} takes over and claims ${claimed.length} pending entr${claimed.length === 1 ? 'y' : 'ies'}`)
    await instance.engine.hold(claimed, true)
  }

  /** Retention trims every input stream as far as the consumer's group allows; nothing it still needs may go. */
  async trim(): Promise<void> {
    const trimmed: string[] = []
    for (const type of this.consumer.subscribes) {
      const result = await trimStream(this.bus, type, { maxLen: 0 })
      if (result.trimmed > 0) trimmed.push(`${result.trimmed} from ${type}`)
    }
    if (trimmed.length > 0) this.count('retention trim')
    this.say(`retention trim: ${trimmed.length > 0 ? `removed ${trimmed.join(', ')}` : 'nothing to remove'}`)
  }

  /**
   * The consumer group disappears while the stream stays (XGROUP DESTROY, a restore from a
   * snapshot taken before the group existed). The live instance does what the runner does on
   * NOGROUP: forgets what it holds and re-creates the group through `GroupReader.recoverGroups`.
   */
  async loseGroup(): Promise<void> {
    const instance = this.instance
    if (!instance || instance.dead) return
    for (const type of this.consumer.subscribes) await this.bus.redis.xgroup('DESTROY', this.bus.keys.stream(type), this.bus.keys.group(this.consumer.name))
    const held = instance.engine.forget()
    this.count('group loss')
    await instance.reader.recoverGroups(held)
    this.say(`the consumer group is lost (NOGROUP); the instance re-creates it below the oldest of its ${held.length} held entr${held.length === 1 ? 'y' : 'ies'} (else where its last re-creation started, if not read again since; else after its last committed one)`)
  }

  /** The live instance dies on the spot (kill -9): nothing committed, lease and pending entries left behind. */
  kill(): void {
    if (this.instance) this.instance.dead = true
  }

  get alive(): boolean {
    return this.instance !== undefined && !this.instance.dead
  }

  /** Handles until nothing is left (taking over from a dead instance first); throws if it never settles. */
  async drain(): Promise<void> {
    // The operator resumes a consumer paused by hand: nothing would be handled otherwise.
    if (await this.pausedByHand()) await this.resumeByHand()
    for (let i = 0; i < 2_000; i++) {
      if (!this.alive) await this.takeOver()
      if (await this.deliver()) continue
      const pending = await this.pendingCount()
      if (pending === 0) return
      await this.takeOver()
    }
    throw new Error(`${this.consumer.name} did not settle: entries stay pending after 2000 steps`)
  }

  private async pausedByHand(): Promise<boolean> {
    const state = await readBreaker(this.bus, this.consumer.name)
    return state.open && state.reason === 'manual'
  }

  async pendingCount(): Promise<number> {
    let total = 0
    for (const type of this.consumer.subscribes) {
      const summary = (await this.bus.redis.xpending(this.bus.keys.stream(type), this.bus.keys.group(this.consumer.name))) as [number, ...unknown[]]
      total += Number(summary[0])
    }
    return total
  }

  /** The paused instance wakes up after another took over and tries its commit: the lease must refuse it. */
  async resumeZombie(): Promise<void> {
    const zombie = this.zombie
    this.zombie = undefined
    if (!zombie || zombie.done.length === 0 || zombie.instance === this.instance) return
    try {
      await commitBatch(this.bus, this.consumer.name, zombie.instance.token, zombie.done, 100_000)
    } catch (error) {
      if ((error as { code?: string }).code === 'E_LEASE_LOST') {
        this.say('the paused instance wakes and tries its commit: refused, its lease was taken over')
        return
      }
      throw error
    }
    throw new Error('a paused instance committed after another instance had taken over its lease (fencing failed)')
  }

  /** The instance's WaveEngine: the runner's, with the schedule's failures and crashes, telling the story. */
  private engine(token: string, reader: GroupReader, instance: () => Instance): WaveEngine {
    const consumer = this.consumer
    const label = (h: Held) => (h.event ? this.options.label(h.event.id) : `entry ${h.entryId}`)
    return new WaveEngine(this.bus, consumer, {
      token,
      retry: this.options.retry,
      batchSize: 200,
      inboxSize: 100_000,
      lastCommitted: reader.lastCommitted,
      random: () => 0.5,
      // Two events failing in a row open it: schedules are short.
      breaker: { consecutiveFailures: 2 },
      handle: async (event, ctx) => {
        this.calls.set(event.id, (this.calls.get(event.id) ?? 0) + 1)
        if (this.poison.has(event.id)) throw new Error('poison: this event always fails')
        if (this.down > 0) {
          this.down--
          this.count('dependency-down failure')
          throw new TransientError('injected: the dependency is down')
        }
        await consumer.handle(event, ctx)
        const left = this.transient.get(event.id) ?? 0
        if (left === 0) return
        // A failure on the last attempt dead-letters: an injected one must never be what sends
        // an event there (the consumer's own failures count too), so it waits for a later attempt.
        if (ctx.attempt >= this.options.retry.maxAttempts) {
          this.say(`  injected failure of ${this.options.label(event.id)} held back: attempt ${ctx.attempt} would dead-letter it`)
          return
        }
        this.transient.set(event.id, left - 1)
        this.count('injected failure')
        throw new Error('injected transient failure after the handler ran')
      },
      beforeCommit: (done) => {
        if (this.stop === undefined) return true
        instance().dead = true
        if (this.stop === 'pause') this.zombie = { instance: instance(), done }
        return false
      },
      sink: {
        queued: (h) => void this.arrival.set(h, this.seq++),
        satOut: (h) => this.say(`  ${label(h)} sits out: it overlaps an earlier deferred event`),
        deferred: (h) => this.say(`  ${label(h)} deferred: it touched state an earlier event of the wave wrote`),
        committed: (h, effects) => {
          const event = h.event as EventEnvelope
          this.commits.push({ id: event.id, streamKey: h.streamKey, orderKey: h.orderKey })
          for (const key of touchedBy(effects)) this.touched.add(key)
          this.say(`handle ${label(h)} -> commit (${effects.emits.length} emitted, ${effects.writes.length} state writes)`)
        },
        counted: (_handled, duplicates) => {
          if (duplicates > 0) this.say(`  commit saw ${duplicates} duplicate(s): already in the inbox, nothing applied`)
        },
        failed: (h, error, attempts, decision, kind) =>
          this.say(`${label(h)} failed (${errorMessage(error)}), ${kind === 'transient' ? 'transient, no attempt counted' : `attempt ${attempts}`}: ${decision.kind === 'dead-letter' ? 'dead-lettered' : 'will retry'}`),
        breaker: (state) => {
          if (state.open && state.reason === 'failures') this.count('breaker opening')
          this.say(state.open ? `  the breaker is open (${state.reason === 'manual' ? 'by hand' : 'failures of different events'}): one probe at a time` : '  the breaker closes: the probe committed')
        },
      },
    })
  }
}

/** The streams and state keys a commit of these effects writes (so cleanup finds them without a SCAN). */
function touchedBy(effects: Effects): string[] {
  return [...effects.emits.flatMap((emit) => [emit.stream, emit.index]), ...effects.writes.map((write) => write.key)]
}
