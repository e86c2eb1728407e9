/**
 * What users pick today: the same 7-stage chain as BullMQ queues. Queue i has one Worker whose
 * processor adds the job's data to queue i+1 (queue 7 is a sink with no worker, like the raw
 * chain's last stream). Concurrency 50: the figure a reasonable user reaches for with
 * I/O-bound processors (BullMQ's default of 1 would be unfairly slow). Jobs are removed on
 * completion; the run ends when the last worker has completed every event.
 */
import { Queue, Worker, type ConnectionOptions } from 'bullmq'
import { benchEnvelope } from '../support/events.js'

const STAGES = 7
const CONCURRENCY = 50
const PRODUCE_CHUNK = 1000
const JOB_OPTIONS = { removeOnComplete: true, removeOnFail: true } as const

export async function runBullmqChain(options: { url: string; events: number }): Promise<number> {
  const { hostname, port } = new URL(options.url)
  const connection: ConnectionOptions = { host: hostname, port: Number(port), maxRetriesPerRequest: null }
  const queues = Array.from(
    { length: STAGES + 1 },
    (_, i) => new Queue(`stage${i}`, { connection, prefix: 'bull', defaultJobOptions: JOB_OPTIONS }),
  )
  const workers: Worker[] = []
  let done!: () => void
  const finished = new Promise<void>((resolve) => (done = resolve))
  try {
    await Promise.all(queues.map((q) => q.waitUntilReady()))
    for (let i = 0; i < STAGES; i++) {
      const next = queues[i + 1] as Queue
      const nextType = `bench.stage${i + 1}`
      const worker = new Worker(
        `stage${i}`,
        async (job) => {
          await next.add(nextType, { ...job.data, type: nextType })
        },
        { connection, prefix: 'bull', concurrency: CONCURRENCY },
      )
      worker.on('error', (error) => process.stderr.write(`bullmq worker ${i}: ${error.message}\n`))
      workers.push(worker)
    }
    let completed = 0
    ;(workers[STAGES - 1] as Worker).on('completed', () => {
      if (++completed === options.events) done()
    })
    await Promise.all(workers.map((w) => w.waitUntilReady()))

    const started = performance.now()
    const first = queues[0] as Queue
    const now = new Date().toISOString()
    for (let from = 0; from < options.events; from += PRODUCE_CHUNK) {
      const chunk = []
      for (let i = from; i < Math.min(options.events, from + PRODUCE_CHUNK); i++) {
        const event = benchEnvelope(i, 'bench.stage0', now)
        chunk.push({ name: event.type, data: event, opts: JOB_OPTIONS })
      }
      await first.addBulk(chunk)
    }
    await finished
    return (performance.now() - started) / 1000
  } finally {
    await Promise.all(workers.map((w) => w.close()))
    await Promise.all(queues.map((q) => q.close()))
  }
}
