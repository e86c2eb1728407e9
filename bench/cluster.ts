/**
 * `npm run bench:cluster [-- --events N] [--partitions N] [--json]`: the 7-stage chain of
 * bench/chain/eventspine.ts, in one run: P = 1 and P = N on a standalone redis-server (stages in
 * this process), then P = N on a local 3-master Redis Cluster with the stages in 1 and in 3
 * worker processes (each running all 7 stages, so each stage has 1 or 3 instances sharing its
 * partitions). Prints stage-events/s (events x 7 / seconds) and each ratio against P = 1
 * standalone, with the load average: on a shared 2-core machine the cores are the ceiling.
 *
 * `--stage-worker URL NAMESPACE` is the worker mode the cluster runs spawn (not for people).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { CHAIN_STAGES, runChainStages, runEventspineChain } from './chain/eventspine.js'
import { startBenchRedis } from './support/redis.js'

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '20000' },
    partitions: { type: 'string', default: '4' },
    json: { type: 'boolean', default: false },
    'stage-worker': { type: 'string', multiple: true },
  },
})

if (values['stage-worker'] !== undefined) {
  const [url, namespace] = values['stage-worker']
  const stages = await runChainStages({ url: url as string, namespace: namespace as string })
  process.stdout.write('ready\n')
  process.once('SIGTERM', () => void stages.stop().finally(() => process.exit(0)))
} else {
  await main()
}

interface Figure {
  readonly setup: string
  readonly seconds: number
  readonly stageEventsPerSecond: number
  readonly ratio: number
  /** 1-minute load average when the run ended. */
  readonly load: number
}

async function main(): Promise<void> {
  const log = (line: string) => process.stderr.write(`${line}\n`)
  const events = Number(values.events)
  const partitions = Number(values.partitions)
  if (!Number.isInteger(events) || events < 1 || !Number.isInteger(partitions) || partitions < 2) throw new Error('--events must be >= 1 and --partitions >= 2')
  const load = () => Math.round((loadavg()[0] ?? 0) * 10) / 10
  const { startLocalCluster } = await import('../src/redis/cluster.js')
  const dir = mkdtempSync(join(tmpdir(), 'bench-cluster-'))
  const redis = await startBenchRedis()
  const cluster = await startLocalCluster({ dir, masters: 3, lifetime: 'ours' })
  log(`standalone ${redis.url}, cluster ${cluster.url}; ${events} events x ${CHAIN_STAGES} stages, load average ${load()}`)
  const figures: Figure[] = []
  const record = (setup: string, seconds: number) => {
    const stageEventsPerSecond = Math.round((events * CHAIN_STAGES) / seconds)
    const base = figures[0]?.stageEventsPerSecond ?? stageEventsPerSecond
    const figure = { setup, seconds: Math.round(seconds * 100) / 100, stageEventsPerSecond, ratio: Math.round((stageEventsPerSecond / base) * 100) / 100, load: load() }
    figures.push(figure)
    log(`  ${setup.padEnd(44)} ${String(stageEventsPerSecond).padStart(7)} stage-events/s  x${figure.ratio.toFixed(2)}  (${figure.seconds} s, load ${figure.load})`)
  }
  try {
    record('standalone, P = 1, in process', await runEventspineChain({ url: redis.url, events, namespace: 'bench-p1' }))
    record(`standalone, P = ${partitions}, in process`, await runEventspineChain({ url: redis.url, events, namespace: `bench-p${partitions}`, partitions }))
    for (const workers of [1, 3]) {
      const namespace = `bench-cluster-w${workers}`
      const seconds = await runEventspineChain({ url: cluster.url, events, namespace, partitions, startStages: () => startWorkers(cluster.url, namespace, workers) })
      record(`3-master cluster, P = ${partitions}, ${workers} worker process${workers === 1 ? '' : 'es'}`, seconds)
    }
  } finally {
    await cluster.stop()
    await redis.stop()
    rmSync(dir, { recursive: true, force: true })
  }
  if (values.json) process.stdout.write(`${JSON.stringify({ events, stages: CHAIN_STAGES, partitions, figures }, null, 2)}\n`)
}

/** `workers` processes each running all 7 stages on the namespace; resolves once each says it runs, to a function that stops them. */
async function startWorkers(url: string, namespace: string, workers: number): Promise<() => Promise<void>> {
  const children: ChildProcess[] = []
  const ready = Array.from({ length: workers }, () => {
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1] as string, '--stage-worker', url, '--stage-worker', namespace], { stdio: ['ignore', 'pipe', 'inherit'] })
    children.push(child)
    return new Promise<void>((resolve, reject) => {
      child.stdout?.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve())
      child.once('exit', (code) => reject(new Error(`a stage worker exited with ${code} before it was ready`)))
    })
  })
  const stop = async () => {
    await Promise.all(children.map((child) => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve()
      child.once('exit', () => resolve())
      child.kill('SIGTERM')
    })))
  }
  try {
    await Promise.all(ready)
    // Every instance has joined: let the shares settle before the clock starts (a lease each per partition).
    await new Promise((resolve) => setTimeout(resolve, 3_000))
  } catch (error) {
    await stop()
    throw error
  }
  return stop
}
