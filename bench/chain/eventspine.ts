/**
 * This runtime with every guarantee on: 7 consumers chained by event type (stage i reads
 * `bench.stage<i>`, emits `bench.stage<i+1>`), payloads validated against contracts on publish
 * and on read, each event committed atomically by the runner (emit, inbox, correlation index,
 * counters, XACK). The run ends when the last stream holds every event.
 *
 * The runtime is loaded with a dynamic import inside the run, so a broken or half-written
 * `src/` costs this contender its figure, not the whole benchmark.
 */
import { rmSync } from 'node:fs'
import type { Bus, ConsumerContext, ConsumerDefinition, EventEnvelope } from '../../src/index.js'
import { benchEvent } from '../support/events.js'
import { writeBenchContracts } from '../support/contracts.js'

const STAGES = 7
const BATCH = 500
const PUBLISH_CHUNK = 1000
/** A run that makes no progress for this long has lost events or hung: fail it, don't wait forever. */
const STALL_MS = 30_000

export interface ChainOptions {
  readonly url: string
  readonly events: number
  /** Default `bench`. */
  readonly namespace?: string
  /** The namespace's partition count (events spread by their key). Default 1. */
  readonly partitions?: number
  /**
   * Run the stages elsewhere (bench/cluster.ts's worker processes, each running all of them): called
   * once the namespace exists, resolves when they are ready, and its result stops them.
   */
  readonly startStages?: () => Promise<() => Promise<void>>
}

/** Seconds from the first publish until the last stage's stream (all its partitions) holds every event. */
export async function runEventspineChain(options: ChainOptions): Promise<number> {
  const { createBus } = await import('../../src/index.js')
  const { loadContracts } = await import('../../src/events/index.js')
  const contractsDir = writeBenchContracts(STAGES)
  const bus = await createBus({ url: options.url, namespace: options.namespace ?? 'bench', source: 'bench', contracts: loadContracts(contractsDir), ...(options.partitions === undefined ? {} : { partitions: options.partitions }) })
  const consumers = await chainConsumers()
  const stopStages = options.startStages === undefined ? undefined : await options.startStages()
  const runners = stopStages === undefined ? bus.run(consumers, { batchSize: BATCH }) : undefined
  try {
    const started = performance.now()
    for (let from = 0; from < options.events; from += PUBLISH_CHUNK) {
      const chunk = []
      for (let i = from; i < Math.min(options.events, from + PUBLISH_CHUNK); i++) chunk.push(benchEvent(i, 'bench.stage0'))
      await bus.publish(chunk)
    }
    await waitForLength(bus, `bench.stage${STAGES}`, options.events)
    return (performance.now() - started) / 1000
  } finally {
    await runners?.stop()
    await stopStages?.()
    await bus.close()
    rmSync(contractsDir, { recursive: true, force: true })
  }
}

/** One process's share of the chain: all 7 stages on an existing namespace, until `stop`. */
export async function runChainStages(options: { url: string; namespace: string }): Promise<{ stop(): Promise<void> }> {
  const { createBus } = await import('../../src/index.js')
  const { loadContracts } = await import('../../src/events/index.js')
  const contractsDir = writeBenchContracts(STAGES)
  const bus = await createBus({ url: options.url, namespace: options.namespace, source: 'bench', contracts: loadContracts(contractsDir) })
  const runners = bus.run(await chainConsumers(), { batchSize: BATCH })
  return {
    async stop() {
      await runners.stop()
      await bus.close()
      rmSync(contractsDir, { recursive: true, force: true })
    },
  }
}

export const CHAIN_STAGES = STAGES

async function chainConsumers(): Promise<ConsumerDefinition[]> {
  const { defineConsumer } = await import('../../src/index.js')
  return Array.from({ length: STAGES }, (_, i) =>
    defineConsumer({
      name: `stage${i}`,
      subscribes: [`bench.stage${i}`],
      emits: [`bench.stage${i + 1}`],
      handle(event: EventEnvelope, ctx: ConsumerContext) {
        ctx.emit({ type: `bench.stage${i + 1}`, payload: event.payload })
      },
    }),
  )
}

async function waitForLength(bus: Bus, type: string, target: number): Promise<void> {
  let last = -1
  let lastChange = performance.now()
  const stream = bus.keys.stream(type)
  for (;;) {
    const lengths = await Promise.all(bus.partitions.map((keys) => bus.redis.xlen(keys.stream(type))))
    const length = lengths.reduce((a, b) => a + b, 0)
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
