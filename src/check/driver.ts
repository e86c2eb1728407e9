import type { Bus } from '../bus/bus.js'
import { commitBatch, recordFailure } from '../bus/commit.js'
import type { ContractChecker } from '../bus/contracts.js'
import { WaveConflicts, footprint, formWave } from '../bus/conflicts.js'
import { HandlerContext, type ContextScope, type Effects } from '../bus/context.js'
import { publishEvents } from '../bus/publish.js'
import { trimStream } from '../bus/retention.js'
import { compareEntryIds } from '../bus/entry-ids.js'
import { GroupReader, toHeld, type Held } from '../bus/reader.js'
import { decideFailure, type RetryPolicy } from '../bus/retry.js'
import type { ScriptClient } from '../bus/scripts.js'
import type { ConsumerDefinition } from '../bus/types.js'
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
  readonly name: string
  readonly token: string
  readonly reader: GroupReader
  readonly queues: Map<string, (Held & { seq: number })[]>
  readonly known: Set<string>
  dead: boolean
}

/**
 * A deterministic stand-in for one consumer's Runner: the same Redis calls (publish, XREADGROUP,
 * XAUTOCLAIM, the commit and fail scripts, createContext, toHeld, decideFailure) but the
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
  private readonly entries = new Map<string, { streamKey: string; entryId: string; event: CheckEvent }>()
  private instance: Instance | undefined
  /** An instance paused between handling and commit (a long GC, SIGSTOP), with what it will try to commit. */
  private zombie: { instance: Instance; done: { held: Held; effects: Effects }[] } | undefined
  private instances = 0
  private seq = 0

  constructor(private readonly options: DriverOptions) {
    this.consumer = options.consumer
    this.bus = checkBus(options.namespace, options.redis, options.contracts)
  }

  /** The consumer instance now running (a takeover after a crash builds a new one). */
  consumer: ConsumerDefinition

  private get scope(): ContextScope {
    return { consumer: this.consumer.name, source: this.consumer.name, keys: this.bus.keys, redis: this.bus.redis, contracts: this.bus.contracts }
  }

  private say(line: string): void {
    this.options.trace?.(line)
  }

  async start(): Promise<void> {
    const { redis, keys } = this.bus
    const name = this.consumer.name
    for (const key of [keys.inbox(name), keys.stats(name), keys.attempts(name), keys.deadLetters(name), keys.lease(name), keys.streams]) this.touched.add(key)
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
    this.say(`group rewound to before ${this.options.label(id)}: it and later entries of its stream are delivered again`)
  }

  /** Arms `attempts` failures of an event: its handler runs, then the attempt throws. */
  failNext(id: string, attempts: number): void {
    this.transient.set(id, (this.transient.get(id) ?? 0) + attempts)
    this.say(`arm ${attempts} transient failure(s) for ${this.options.label(id)}`)
  }

  orderKey(event: EventEnvelope): string {
    return this.consumer.orderingKey?.(event) ?? event.key
  }

  /** Reads what is new, then handles one step: the oldest head (sequential), every head (waves), or key #k. */
  async deliver(options: { key?: number; crash?: boolean; pause?: boolean } = {}): Promise<boolean> {
    const instance = this.instance
    if (instance === undefined || instance.dead) return false
    const rewound = instance.reader.rewound
    await this.hold(instance, await instance.reader.readNew(200, 0), rewound)
    // Heads in the runner's order (its queues Map: a key's queue keeps its place while it has entries).
    const heads = [...instance.queues.values()].map((q) => q[0] as Held & { seq: number })
    if (heads.length === 0) return false
    const oldest = heads.reduce((a, b) => (b.seq < a.seq ? b : a))
    const chosen = options.key !== undefined ? [heads[options.key % heads.length] as Held] : this.options.mode === 'waves' ? heads : [oldest]
    // formWave as the runner: a deferred head whose footprint overlaps an earlier one's sits out.
    const wave = formWave(chosen, 200)
    await this.process(instance, wave, options.crash === true || options.pause === true, options.pause === true)
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
    const instance: Instance = { name, token, reader, queues: new Map(), known: new Set(), dead: false }
    this.instance = instance
    if (this.instances === 1) return // a new group: nothing pending yet
    const claimed = await reader.claim(0, 200)
    this.say(`instance ${this.instances} takes over and claims ${claimed.length} pending entr${claimed.length === 1 ? 'y' : 'ies'}`)
    await this.hold(instance, claimed, true)
  }

  /** Retention trims every input stream as far as the consumer's group allows; nothing it still needs may go. */
  async trim(): Promise<void> {
    const trimmed: string[] = []
    for (const type of this.consumer.subscribes) {
      const result = await trimStream(this.bus, type, { maxLen: 0 })
      if (result.trimmed > 0) trimmed.push(`${result.trimmed} from ${type}`)
    }
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
    const held = [...instance.queues.values()].flat()
    instance.queues.clear()
    instance.known.clear()
    await instance.reader.recoverGroups(held)
    this.say(`the consumer group is lost (NOGROUP); the instance re-creates it below the oldest of its ${held.length} held entr${held.length === 1 ? 'y' : 'ies'} (else after its last committed one)`)
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
    for (let i = 0; i < 2_000; i++) {
      if (!this.alive) await this.takeOver()
      if (await this.deliver()) continue
      const pending = await this.pendingCount()
      if (pending === 0) return
      await this.takeOver()
    }
    throw new Error(`${this.consumer.name} did not settle: entries stay pending after 2000 steps`)
  }

  async pendingCount(): Promise<number> {
    let total = 0
    for (const type of this.consumer.subscribes) {
      const summary = (await this.bus.redis.xpending(this.bus.keys.stream(type), this.bus.keys.group(this.consumer.name))) as [number, ...unknown[]]
      total += Number(summary[0])
    }
    return total
  }

  /** Holds entries per ordering key; `seenBefore` (claimed) entries may carry failed attempts already. */
  private async hold(instance: Instance, entries: [string, [string, string[] | null]][], seenBefore: boolean): Promise<void> {
    const fresh: (Held & { seq: number })[] = []
    for (const [key, entry] of entries) {
      const id = `${key} ${entry[0]}`
      if (instance.known.has(id)) continue
      instance.known.add(id)
      fresh.push({ ...toHeld(this.bus, key, entry, (e) => this.orderKey(e)), seq: this.seq++ })
    }
    if (fresh.length === 0) return
    if (seenBefore) {
      const counts = await this.bus.redis.hmget(this.bus.keys.attempts(this.consumer.name), ...fresh.map((h) => `${h.streamKey} ${h.entryId}`))
      fresh.forEach((h, i) => {
        h.failures = Number(counts[i] ?? 0)
      })
    }
    for (const h of fresh) {
      if (h.invalid !== undefined) await this.fail(instance, h, new Error(h.invalid), true)
      else {
        const q = instance.queues.get(h.orderKey)
        if (q) q.push(h)
        else instance.queues.set(h.orderKey, [h])
      }
    }
  }

  private release(instance: Instance, h: Held): void {
    instance.known.delete(`${h.streamKey} ${h.entryId}`)
    const q = instance.queues.get(h.orderKey)
    if (q && q[0] === h) {
      q.shift()
      if (q.length === 0) instance.queues.delete(h.orderKey)
    }
  }

  private async fail(instance: Instance, h: Held, error: unknown, permanent: boolean): Promise<void> {
    const result = await recordFailure(this.bus, this.consumer.name, instance.token, h, error, permanent, this.options.retry)
    const decision = decideFailure(this.options.retry, result.attempts, result.deadLettered, () => 0.5)
    const what = h.event ? this.options.label(h.event.id) : `entry ${h.entryId}`
    if (decision.kind === 'dead-letter') {
      this.say(`${what} failed (${errorMessage(error)}), attempt ${result.attempts}: dead-lettered`)
      this.release(instance, h)
    } else {
      this.say(`${what} failed (${errorMessage(error)}), attempt ${result.attempts}: will retry`)
      h.failures = result.attempts
    }
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

  private async process(instance: Instance, entries: readonly { held: Held; sitOut: boolean }[], crash: boolean, pause = false): Promise<void> {
    // As the runner's handleWave: handle concurrently, then in wave order keep the wave
    // serializable (an event that touched what an earlier one wrote, or what an earlier
    // deferred one touched, waits for the next wave).
    const outcomes = await Promise.all(entries.map((w) => (w.sitOut ? undefined : this.handleOne(w.held))))
    const wave = entries.map((w) => w.held)
    const done: { held: Held; effects: Effects }[] = []
    const failed: { held: Held; error: unknown }[] = []
    const conflicts = new WaveConflicts()
    const names = wave.map((h) => this.options.label((h.event as EventEnvelope).id)).join(', ')
    if (wave.length > 1 && !crash) this.say(`wave: ${names} handled concurrently`)
    outcomes.forEach((outcome, i) => {
      const held = wave[i] as Held
      const name = this.options.label((held.event as EventEnvelope).id)
      if (outcome === undefined) {
        conflicts.block(held.footprint ?? [])
        this.say(`  ${name} sits out: it overlaps an earlier deferred event`)
      } else if (outcome.ctx === undefined) failed.push({ held, error: outcome.error })
      else if (!conflicts.defer(outcome.ctx.reads, outcome.ctx.effects)) done.push({ held, effects: outcome.ctx.effects })
      else {
        held.footprint = footprint(outcome.ctx.reads, outcome.ctx.effects)
        this.say(`  ${name} deferred: it touched state an earlier event of the wave wrote`)
      }
    })
    if (crash) {
      instance.dead = true
      if (pause) this.zombie = { instance, done }
      this.say(`handle ${names}, then ${pause ? 'pause' : 'crash'} before commit (lease kept, entries stay pending)`)
      return
    }
    if (done.length > 0) {
      const outcome = await commitBatch(this.bus, this.consumer.name, instance.token, done, 100_000)
      for (const { held, effects } of outcome.committed) {
        this.release(instance, held)
        const event = held.event as EventEnvelope
        this.commits.push({ id: event.id, streamKey: held.streamKey, orderKey: held.orderKey })
        // As the runner: the highest entry committed per stream is where a lost group is re-created from.
        const last = instance.reader.lastCommitted.get(held.streamKey)
        if (last === undefined || compareEntryIds(held.entryId, last) > 0) instance.reader.lastCommitted.set(held.streamKey, held.entryId)
        for (const emit of effects.emits) this.touched.add(emit[0] as string).add(emit[1] as string)
        for (const write of effects.writes) this.touched.add(write[1] as string)
        this.say(`handle ${this.options.label(event.id)} -> commit (${effects.emits.length} emitted, ${effects.writes.length} state writes)`)
      }
      if (outcome.duplicates > 0) this.say(`  commit saw ${outcome.duplicates} duplicate(s): already in the inbox, nothing applied`)
      for (const { held, error } of outcome.rejected) failed.push({ held, error })
    }
    for (const { held, error } of failed) await this.fail(instance, held, error, false)
  }

  private async handleOne(held: Held): Promise<{ ctx: HandlerContext; error?: undefined } | { ctx?: undefined; error: unknown }> {
    const event = held.event as EventEnvelope
    this.calls.set(event.id, (this.calls.get(event.id) ?? 0) + 1)
    if (this.poison.has(event.id)) return { error: new Error('poison: this event always fails') }
    const ctx = new HandlerContext(this.scope, event, held.failures + 1)
    try {
      await this.consumer.handle(event, ctx)
    } catch (error) {
      return { error }
    }
    const left = this.transient.get(event.id) ?? 0
    if (left === 0) return { ctx }
    this.transient.set(event.id, left - 1)
    return { error: new Error('injected transient failure after the handler ran') }
  }
}
