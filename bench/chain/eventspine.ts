/**
 * This runtime with every guarantee on: 7 consumers chained by event type, each handled event
 * committed atomically (emit, inbox, counters, correlation index, XACK) by the bus's runner.
 *
 * The runtime (`src/bus/`) is written alongside this harness, so it is loaded dynamically and
 * typed here by the small surface the benchmark uses: when it is missing, `loadEventspine()`
 * says why and the other contenders still run.
 */
import { Redis } from 'ioredis'
import { keysFor } from '../../src/bus/keys.js'
import { benchEvent } from '../support/events.js'

const STAGES = 7
const BATCH = 500
const PUBLISH_CHUNK = 1000
const NAMESPACE = 'bench'
/** A run that makes no progress for this long has lost events or hung: fail it, don't wait forever. */
const STALL_MS = 30_000

interface Handled {
  readonly payload: unknown
}
interface Ctx {
  emit(event: { type: string; payload: unknown }): unknown
}
interface Bus {
  run(consumers: unknown[], options?: { batchSize?: number }): Runner | Promise<Runner>
  publish(events: { type: string; key: string; payload: unknown }[]): Promise<unknown>
  close(): Promise<void>
}
interface Runner {
  stop(): Promise<void>
}
interface EventspineApi {
  createBus(options: { url: string; namespace: string; source?: string; registry?: unknown }): Promise<Bus>
  defineConsumer<D>(definition: D): D
}

/** Every bench type is accepted as is: no contracts exist for them, and none are needed to time the commit. */
const permissiveRegistry = {
  validate() {},
  upcast<E>(event: E): E {
    return event
  },
  latestVersion: () => 1,
  has: () => true,
}

export async function loadEventspine(): Promise<EventspineApi> {
  // A computed specifier keeps `tsc` from resolving a module that may not exist yet.
  const specifier = '../../src/index.js'
  const mod = (await import(specifier)) as Partial<EventspineApi>
  if (typeof mod.createBus !== 'function' || typeof mod.defineConsumer !== 'function') {
    throw new Error('src/index.ts does not export createBus and defineConsumer yet')
  }
  return mod as EventspineApi
}

export async function runEventspineChain(options: { url: string; events: number }): Promise<number> {
  const api = await loadEventspine()
  const bus = await api.createBus({ url: options.url, namespace: NAMESPACE, source: 'bench', registry: permissiveRegistry })
  const consumers = Array.from({ length: STAGES }, (_, i) =>
    api.defineConsumer({
      name: `stage${i}`,
      subscribes: [`bench.stage${i}`],
      emits: [`bench.stage${i + 1}`],
      handle(event: Handled, ctx: Ctx) {
        ctx.emit({ type: `bench.stage${i + 1}`, payload: event.payload })
      },
    }),
  )
  const probe = new Redis(options.url)
  const sink = keysFor(NAMESPACE).stream(`bench.stage${STAGES}`)
  let runner: Runner | undefined
  try {
    runner = await bus.run(consumers, { batchSize: BATCH })
    const started = performance.now()
    for (let from = 0; from < options.events; from += PUBLISH_CHUNK) {
      const chunk = []
      for (let i = from; i < Math.min(options.events, from + PUBLISH_CHUNK); i++) chunk.push(benchEvent(i, 'bench.stage0'))
      await bus.publish(chunk)
    }
    await waitForLength(probe, sink, options.events)
    return (performance.now() - started) / 1000
  } finally {
    await runner?.stop()
    await bus.close()
    probe.disconnect()
  }
}

async function waitForLength(redis: Redis, stream: string, target: number): Promise<void> {
  let last = -1
  let lastChange = performance.now()
  for (;;) {
    const length = await redis.xlen(stream)
    if (length >= target) return
    if (length !== last) {
      last = length
      lastChange = performance.now()
    } else if (performance.now() - lastChange > STALL_MS) {
      throw new Error(`stalled: ${stream} stuck at ${length} of ${target} events for ${STALL_MS / 1000} s`)
    }
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
