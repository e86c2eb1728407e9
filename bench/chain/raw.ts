/**
 * The ceiling: a 7-stage chain on bare Redis Streams with no guarantees. Stage i reads stream i
 * with its own consumer group (XREADGROUP COUNT 500 BLOCK 100), appends each event to stream
 * i+1 with the same flat fields (only `type` changes) and acknowledges the whole batch with one
 * XACK, all in one pipeline. No inbox, no ordering, no retries, no index.
 */
import { Redis } from 'ioredis'
import { benchFields } from '../support/events.js'

export const STAGES = 7
const BATCH = 500
const PRODUCE_CHUNK = 1000
const GROUP = 'raw'

const stream = (i: number) => `raw:stage${i}`

type ReadReply = [string, [string, string[]][]][] | null

export async function runRawChain(options: { url: string; events: number }): Promise<number> {
  const { url, events } = options
  const admin = new Redis(url)
  for (let i = 0; i < STAGES; i++) await admin.xgroup('CREATE', stream(i), GROUP, '0', 'MKSTREAM')
  const connections = Array.from({ length: STAGES + 1 }, () => new Redis(url))
  try {
    const started = performance.now()
    const stages = connections.slice(0, STAGES).map((redis, i) => runStage(redis, i, events))
    await produce(connections[STAGES] as Redis, events)
    await Promise.all(stages)
    return (performance.now() - started) / 1000
  } finally {
    for (const c of connections) c.disconnect()
    admin.disconnect()
  }
}

async function produce(redis: Redis, events: number): Promise<void> {
  const now = new Date().toISOString()
  for (let from = 0; from < events; from += PRODUCE_CHUNK) {
    const pipeline = redis.pipeline()
    for (let i = from; i < Math.min(events, from + PRODUCE_CHUNK); i++) {
      pipeline.xadd(stream(0), '*', ...benchFields(i, 'bench.stage0', now))
    }
    await pipeline.exec()
  }
}

async function runStage(redis: Redis, stage: number, events: number): Promise<void> {
  const source = stream(stage)
  const target = stream(stage + 1)
  const nextType = `bench.stage${stage + 1}`
  let processed = 0
  while (processed < events) {
    const reply = (await redis.xreadgroup(
      'GROUP', GROUP, `c${stage}`, 'COUNT', BATCH, 'BLOCK', 100, 'STREAMS', source, '>',
    )) as ReadReply
    const entries = reply?.[0]?.[1]
    if (!entries || entries.length === 0) continue
    const pipeline = redis.pipeline()
    const ids: string[] = []
    for (const [id, fields] of entries) {
      const out = fields.slice()
      const typeAt = out.indexOf('type')
      if (typeAt >= 0) out[typeAt + 1] = nextType
      pipeline.xadd(target, '*', ...out)
      ids.push(id)
    }
    pipeline.xack(source, GROUP, ...ids)
    await pipeline.exec()
    processed += entries.length
  }
}
