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
import type { RedisClient } from '../../src/redis/index.js'
import type { ConsumerContext, EventEnvelope } from '../../src/index.js'
import { benchEvent } from '../support/events.js'
import { writeBenchContracts } from '../support/contracts.js'

const STAGES = 7
const BATCH = 500
const PUBLISH_CHUNK = 1000
/** A run that makes no progress for this long has lost events or hung: fail it, don't wait forever. */
const STALL_MS = 30_000

export async function runEventspineChain(options: { url: string; events: number }): Promise<number> {
  const { createBus, defineConsumer } = await import('../../src/index.js')
  const { loadContracts } = await import('../../src/events/index.js')
  const contractsDir = writeBenchContracts(STAGES)
  const bus = await createBus({ url: options.url, namespace: 'bench', source: 'bench', contracts: loadContracts(contractsDir) })
  const consumers = Array.from({ length: STAGES }, (_, i) =>
    defineConsumer({
      name: `stage${i}`,
      subscribes: [`bench.stage${i}`],
      emits: [`bench.stage${i + 1}`],
      handle(event: EventEnvelope, ctx: ConsumerContext) {
        ctx.emit({ type: `bench.stage${i + 1}`, payload: event.payload })
      },
    }),
  )
  const runners = bus.run(consumers, { batchSize: BATCH })
  try {
    const started = performance.now()
    for (let from = 0; from < options.events; from += PUBLISH_CHUNK) {
      const chunk = []
      for (let i = from; i < Math.min(options.events, from + PUBLISH_CHUNK); i++) chunk.push(benchEvent(i, 'bench.stage0'))
      await bus.publish(chunk)
    }
    await waitForLength(bus.redis, bus.keys.stream(`bench.stage${STAGES}`), options.events)
    return (performance.now() - started) / 1000
  } finally {
    await runners.stop()
    await bus.close()
    rmSync(contractsDir, { recursive: true, force: true })
  }
}

async function waitForLength(redis: RedisClient, stream: string, target: number): Promise<void> {
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
