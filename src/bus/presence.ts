import type { Bus } from './bus.js'
import type { ConsumerDefinition } from './types.js'
import { redisTimeMs } from '../redis/clock.js'

/** How often a process running consumers says they are alive. */
export const HEARTBEAT_MS = 5_000
/** A registered consumer with no instance seen for this long is gone: trace stops waiting for it. */
export const GONE_AFTER_MS = 60_000

/** A consumer as the namespace's registry knows it, and whether any instance is still around. */
export interface RegisteredConsumer {
  readonly name: string
  readonly subscribes: readonly string[]
  readonly emits: readonly string[]
  /** Contract versions it declared it reads (`ConsumerDefinition.reads`); a type left out is read as the latest. */
  readonly reads?: Readonly<Record<string, number>>
  /** When an instance was last seen (ISO, Redis's clock); null when none ever reported. */
  readonly lastSeenAt: string | null
  /** No instance seen for `goneAfterMs` (or never): its process is gone. */
  readonly gone: boolean
}

export interface PresenceOptions {
  /** Default GONE_AFTER_MS. */
  readonly goneAfterMs?: number
  /** "Now" in ms on Redis's clock; default: Redis TIME (tests move it forward). */
  readonly now?: number
}

/** A consumer's row in the namespace's registry (`keys.consumers`): what it reads and emits. */
export const registration = (c: ConsumerDefinition): string => JSON.stringify({ subscribes: c.subscribes, emits: c.emits ?? [], ...(c.reads === undefined ? {} : { reads: c.reads }) })

/**
 * Refreshes, now and every HEARTBEAT_MS, when each consumer was last seen, and its registration
 * (a row removed by `removeGoneConsumers` while it ran comes back at the next beat). `alive`
 * says which still run: a runner that stopped or was killed stops beating.
 */
export function startHeartbeat(bus: Bus, consumers: readonly ConsumerDefinition[], alive: (name: string) => boolean = () => true): { stop(): void } {
  const rows = consumers.map((c) => ({ name: c.name, row: registration(c) }))
  const beat = async () => {
    const live = rows.filter((c) => alive(c.name))
    if (live.length === 0) return
    // Redis's clock, so processes on machines with skewed clocks agree on who is gone.
    const now = String(await redisTimeMs(bus.redis))
    const p = bus.redis.pipeline()
    for (const c of live) {
      p.hset(bus.keys.consumersSeen, c.name, now)
      p.hset(bus.keys.consumers, c.name, c.row)
    }
    await p.exec()
  }
  // A missed beat (Redis restarting) is harmless: the next one, or the runner's own errors, say more.
  const tick = () => void beat().catch(() => {})
  tick()
  const timer = setInterval(tick, HEARTBEAT_MS)
  timer.unref()
  return { stop: () => clearInterval(timer) }
}

const versions = (v: unknown): Record<string, number> =>
  typeof v === 'object' && v !== null ? Object.fromEntries(Object.entries(v).filter((e): e is [string, number] => Number.isInteger(e[1]))) : {}

const list = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [])

/** Every registered consumer with when it was last seen, sorted by name. Rows that cannot be read are left out. */
export async function registeredConsumers(bus: Bus, options: PresenceOptions = {}): Promise<RegisteredConsumer[]> {
  const [rows, seen, now] = await Promise.all([bus.redis.hgetall(bus.keys.consumers), bus.redis.hgetall(bus.keys.consumersSeen), options.now ?? redisTimeMs(bus.redis)])
  const goneAfter = options.goneAfterMs ?? GONE_AFTER_MS
  const out: RegisteredConsumer[] = []
  for (const [name, raw] of Object.entries(rows)) {
    let parsed: { subscribes?: unknown; emits?: unknown; reads?: unknown }
    try {
      parsed = JSON.parse(raw) as typeof parsed
    } catch {
      continue // a row we cannot read tells us nothing; the others still do
    }
    const at = Number(seen[name])
    const lastSeen = seen[name] !== undefined && Number.isFinite(at) ? at : null
    out.push({
      name,
      subscribes: list(parsed.subscribes),
      emits: list(parsed.emits),
      ...(parsed.reads === undefined ? {} : { reads: versions(parsed.reads) }),
      lastSeenAt: lastSeen === null ? null : new Date(lastSeen).toISOString(),
      gone: lastSeen === null || now - lastSeen > goneAfter,
    })
  }
  return out.sort((a, b) => a.name.localeCompare(b.name))
}

/**
 * Removes the registration of every consumer with no instance seen for `goneAfterMs` (for
 * `pipeline clean`): it no longer shapes `trace`'s awaited list or `status`. Its streams, group,
 * state and dead letters stay. `only` limits it to these names. Returns the names removed.
 */
export async function removeGoneConsumers(bus: Bus, options: PresenceOptions & { readonly only?: readonly string[] } = {}): Promise<string[]> {
  const gone = (await registeredConsumers(bus, options)).filter((c) => c.gone && (options.only === undefined || options.only.includes(c.name))).map((c) => c.name)
  if (gone.length === 0) return []
  await bus.redis.multi().hdel(bus.keys.consumers, ...gone).hdel(bus.keys.consumersSeen, ...gone).exec()
  return gone
}
