import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Bus } from '../bus/bus.js'
import { EventspineError } from '../errors.js'
import { packageRoot } from '../pipeline/paths.js'

export interface WorkerPoolOptions {
  readonly url: string
  readonly namespace: string
  readonly outDir: string
  readonly referenceDir: string
  /** "Now" pinned for the date rules (the end of the generated day). */
  readonly clock: Date
  readonly visibilityTimeoutMs: number
  /** Each worker's output goes to `<logDir>/<stage>-<n>.log`. */
  readonly logDir: string
  /** The project config the workers run (its consumers); none: the built-in pipeline. */
  readonly config?: string | undefined
  /** A worker that has not said it runs after this long is a failed start (a hang, not a slow machine). Default 120 s. */
  readonly startTimeoutMs?: number
  /** Entries per read, as `pipeline worker --batch-size`; default the worker's own. */
  readonly batchSize?: number
  /** Chaos runs: each worker stops before a commit while its stage's hold key is set. */
  readonly chaosHold?: boolean
  /** Reference data from this Postgres (`pipeline worker --reference-db`) instead of `referenceDir`. */
  readonly referenceDb?: string | undefined
}

/** A `pipeline worker --stage <stage> [--stage ...]` process. */
export interface WorkerProcess {
  /** Its stages joined by "+" (one stage: its name), as logs and reports name it. */
  readonly stage: string
  readonly stages: readonly string[]
  readonly child: ChildProcess
  readonly logFile: string
  /** Set before we signal it on purpose, so its exit is not reported as a crash. */
  expectedExit: boolean
  /** Its last lines of output (the log file may not be flushed when it dies). */
  readonly lastLines: string[]
}

export interface UnexpectedExit {
  readonly stage: string
  readonly code: number | null
  readonly signal: string | null
  readonly logTail: string
  /** Whether a replacement could be started. */
  readonly replaced: boolean
}

const READY = 'Ctrl-C to stop.'
const KEPT_LINES = 12

/**
 * The pipeline's stages as separate `pipeline worker` processes (the real command, as a user
 * would run it), one stage or several each, plus standbys and replacements as faults ask. Each worker has an IPC channel
 * to us and stops when it closes, so none outlives the run. A worker that dies without being
 * told to is recorded and, if its stage has no other worker, replaced, as a supervisor would.
 */
export class WorkerPool {
  private readonly byStage = new Map<string, Set<WorkerProcess>>()
  private started = 0
  private closing = false
  readonly unexpectedExits: UnexpectedExit[] = []

  constructor(private readonly options: WorkerPoolOptions) {}

  /**
   * Starts one worker per stage and waits until each is running. As many at a time as there
   * are cores: all at once on a small, busy machine, each start would wait for every other's
   * and the start timeout would measure the queue, not a hang. A start is mostly CPU (loading
   * the CLI), so more at once would hardly finish sooner.
   */
  async startAll(workers: readonly (string | readonly string[])[]): Promise<void> {
    const queue = [...workers]
    const lane = async () => {
      for (let stage = queue.shift(); stage !== undefined && !this.closing; stage = queue.shift()) await this.start(stage)
    }
    await Promise.all(Array.from({ length: Math.min(queue.length, availableParallelism()) }, lane))
  }

  /** The workers alive that run this stage. */
  live(stage: string): WorkerProcess[] {
    return [...(this.byStage.get(stage) ?? [])]
  }

  /** Every worker alive, any stage. */
  all(): WorkerProcess[] {
    return [...new Set([...this.byStage.values()].flatMap((set) => [...set]))]
  }

  /** A new worker for a stage or several; resolves once it runs. */
  async start(stages: string | readonly string[]): Promise<WorkerProcess> {
    const w = this.spawn(typeof stages === 'string' ? [stages] : stages)
    await this.ready(w)
    return w
  }

  /** kill -9: no drain, no lease release, whatever it held left pending. */
  async kill(w: WorkerProcess): Promise<void> {
    w.expectedExit = true
    await signalAndWait(w, 'SIGKILL')
  }

  pause(w: WorkerProcess): void {
    w.child.kill('SIGSTOP')
  }

  resume(w: WorkerProcess): void {
    w.child.kill('SIGCONT')
  }

  /** Stops a worker gracefully (SIGTERM: it drains); SIGKILL after 15 s. */
  async retire(w: WorkerProcess): Promise<void> {
    w.expectedExit = true
    w.child.kill('SIGCONT')
    await signalAndWait(w, 'SIGTERM', 15_000)
  }

  async stopAll(): Promise<void> {
    this.closing = true
    await Promise.all(this.all().map((w) => this.retire(w)))
  }

  /** At once, from a signal handler: nothing may be left running or stopped. */
  killAll(): void {
    this.closing = true
    for (const w of this.all()) {
      w.expectedExit = true
      w.child.kill('SIGCONT')
      w.child.kill('SIGKILL')
    }
  }

  private spawn(stages: readonly string[]): WorkerProcess {
    const o = this.options
    const stage = stages.join('+')
    const logFile = join(o.logDir, `${stage}-${++this.started}.log`)
    const args = [
      join(packageRoot(), 'bin', 'run.js'),
      'worker',
      ...stages.flatMap((s) => ['--stage', s]),
      '--redis-url', o.url,
      '--namespace', o.namespace,
      '--out', o.outDir,
      '--reference', o.referenceDir,
      '--clock', o.clock.toISOString(),
      '--visibility-timeout', `${o.visibilityTimeoutMs}ms`,
      ...(o.chaosHold === true ? ['--chaos-hold'] : []),
      ...(o.batchSize === undefined ? [] : ['--batch-size', String(o.batchSize)]),
      ...(o.referenceDb === undefined ? [] : ['--reference-db', o.referenceDb]),
      ...(o.config === undefined ? [] : ['--config', o.config]),
    ]
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env: { ...process.env, NO_COLOR: '1' } })
    child.on('error', () => {})
    const log = createWriteStream(logFile)
    const worker: WorkerProcess = { stage, stages, child, logFile, expectedExit: false, lastLines: [] }
    const keep = (chunk: Buffer) => {
      log.write(chunk)
      worker.lastLines.push(...chunk.toString('utf8').trimEnd().split('\n'))
      worker.lastLines.splice(0, Math.max(0, worker.lastLines.length - KEPT_LINES))
    }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
    const sets = stages.map((s) => {
      let set = this.byStage.get(s)
      if (set === undefined) this.byStage.set(s, (set = new Set()))
      set.add(worker)
      return set
    })
    // 'close' comes after the output pipes are drained: the log is complete.
    child.once('close', (code, signal) => {
      for (const set of sets) set.delete(worker)
      log.end()
      if (worker.expectedExit || this.closing) return
      const logTail = worker.lastLines.join('\n')
      if (sets.every((set) => set.size > 0)) {
        this.unexpectedExits.push({ stage, code, signal, logTail, replaced: false })
        return
      }
      void this.replace(stages).then((replaced) => this.unexpectedExits.push({ stage, code, signal, logTail, replaced }))
    })
    return worker
  }

  private async ready(w: WorkerProcess): Promise<void> {
    const timeoutMs = this.options.startTimeoutMs ?? 120_000
    const outcome = await new Promise<'ready' | 'exited' | 'timeout'>((resolve) => {
      const settle = (how: 'ready' | 'exited' | 'timeout') => {
        clearTimeout(timer)
        w.child.stdout?.off('data', check)
        w.child.off('exit', exited)
        resolve(how)
      }
      const check = () => {
        if (w.lastLines.some((l) => l.includes(READY))) settle('ready')
      }
      const exited = () => settle('exited')
      const timer = setTimeout(() => settle('timeout'), timeoutMs)
      w.child.stdout?.on('data', check)
      w.child.once('exit', exited)
    })
    if (outcome === 'ready') return
    if (outcome === 'timeout') await this.kill(w)
    throw new EventspineError('E_WORKER_START', `the ${w.stage} worker ${outcome === 'timeout' ? `did not start within ${timeoutMs / 1000} s` : 'exited while starting'}.`, {
      hint: `Its last output (${w.logFile}):\n${w.lastLines.join('\n')}`,
    })
  }

  /** A supervisor's restart: a few tries with back-off (Redis may be down during a fault). */
  private async replace(stages: readonly string[]): Promise<boolean> {
    for (let attempt = 0; attempt < 5 && !this.closing; attempt++) {
      try {
        await this.start(stages)
        return true
      } catch {
        await sleep(1_000 * 2 ** attempt)
      }
    }
    return false
  }
}

async function signalAndWait(w: WorkerProcess, signal: NodeJS.Signals, killAfterMs = 5_000): Promise<void> {
  if (w.child.exitCode !== null || w.child.signalCode !== null) return
  const gone = new Promise<void>((resolve) => w.child.once('exit', () => resolve()))
  w.child.kill(signal)
  const timedOut = await Promise.race([gone.then(() => false), sleep(killAfterMs).then(() => true)])
  if (timedOut) {
    w.child.kill('SIGKILL')
    await gone
  }
}

/** Every stage's worker holds its lease: the run starts with each stage really working. */
export async function waitForLeases(bus: Bus, stages: readonly string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    // Every partition's lease: with partitions, a stage works only where its leases are held.
    // One EXISTS per partition: on a cluster the partitions' leases live in different slots.
    const held = await Promise.all(stages.map(async (s) => (await Promise.all(bus.partitions.map((k) => bus.redis.exists(k.lease(s))))).every((n) => n === 1)))
    if (held.every(Boolean)) return
    if (Date.now() > deadline) {
      const missing = stages.filter((_, i) => !held[i])
      throw new EventspineError('E_WORKER_START', `the worker of ${missing.join(', ')} did not take its stage within ${timeoutMs / 1000} s`, { hint: 'See the worker logs.' })
    }
    await sleep(50)
  }
}

/**
 * The consumers dealt over `n` workers by their `cost` (default 1), heaviest first, each to the
 * least loaded worker so far (longest processing time first), ties in pipeline order: the
 * busiest worker bounds the run, so none may get all the heavy ones. A group lists its
 * consumers in pipeline order.
 */
export function spreadStages(consumers: readonly { readonly name: string; readonly cost?: number | undefined }[], n: number): string[][] {
  const count = Math.max(1, Math.min(n, consumers.length))
  const load = new Array<number>(count).fill(0)
  const into = new Map<string, number>()
  const heaviestFirst = consumers.map((c, i) => ({ name: c.name, cost: c.cost ?? 1, i })).sort((a, b) => b.cost - a.cost || a.i - b.i)
  for (const c of heaviestFirst) {
    const lightest = load.indexOf(Math.min(...load))
    load[lightest] = (load[lightest] ?? 0) + c.cost
    into.set(c.name, lightest)
  }
  const groups: string[][] = Array.from({ length: count }, () => [])
  for (const c of consumers) groups[into.get(c.name) ?? 0]?.push(c.name)
  return groups.filter((g) => g.length > 0)
}
