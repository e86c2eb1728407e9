import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { EventspineError } from '../../errors.js'
import { packageRoot } from '../../pipeline/paths.js'

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
}

/** A `pipeline worker --stage <stage>` process. */
export interface WorkerProcess {
  readonly stage: string
  readonly child: ChildProcess
  readonly logFile: string
  /** Set before we signal it on purpose, so its exit is not reported as a crash. */
  expectedExit: boolean
}

export interface UnexpectedExit {
  readonly stage: string
  readonly code: number | null
  readonly signal: string | null
  readonly logTail: string
}

const READY = 'Ctrl-C to stop.'

/**
 * The pipeline's stages as separate `pipeline worker` processes (the real command, as a user
 * would run it), one per stage, plus standbys when a fault asks for one. A worker that dies
 * without being told to is recorded and replaced, as a process supervisor would.
 */
export class WorkerPool {
  private readonly primaries = new Map<string, WorkerProcess>()
  private readonly everyone = new Set<WorkerProcess>()
  private started = 0
  private closing = false
  readonly unexpectedExits: UnexpectedExit[] = []
  private readonly killAllOnExit = () => {
    for (const w of this.everyone) w.child.kill('SIGKILL')
  }

  constructor(private readonly options: WorkerPoolOptions) {
    process.once('exit', this.killAllOnExit)
  }

  /** Starts one worker per stage and waits until each is running. */
  async startAll(stages: readonly string[]): Promise<void> {
    const workers = await Promise.all(stages.map((stage) => this.spawn(stage)))
    for (const w of workers) this.primaries.set(w.stage, w)
  }

  /** The worker currently meant to run `stage`. */
  primary(stage: string): WorkerProcess {
    const w = this.primaries.get(stage)
    if (w === undefined) throw new Error(`no worker runs ${stage}`)
    return w
  }

  /** kill -9 of the stage's worker: no drain, no lease release, its batch left pending. */
  async kill(stage: string): Promise<void> {
    const w = this.primary(stage)
    w.expectedExit = true
    await signalAndWait(w, 'SIGKILL')
    this.primaries.delete(stage)
  }

  /** A new worker for `stage` (after a kill, or as a standby); it becomes the primary unless a standby. */
  async start(stage: string, role: 'primary' | 'standby' = 'primary'): Promise<WorkerProcess> {
    const w = await this.spawn(stage)
    if (role === 'primary') this.primaries.set(stage, w)
    return w
  }

  /** Makes `standby` the stage's worker and stops the old one gracefully. */
  async handOver(stage: string, standby: WorkerProcess): Promise<void> {
    const old = this.primaries.get(stage)
    this.primaries.set(stage, standby)
    if (old !== undefined && old !== standby) {
      old.expectedExit = true
      old.child.kill('SIGCONT')
      await signalAndWait(old, 'SIGTERM', 15_000)
    }
  }

  pause(stage: string): void {
    this.primary(stage).child.kill('SIGSTOP')
  }

  resume(stage: string, worker: WorkerProcess = this.primary(stage)): void {
    worker.child.kill('SIGCONT')
  }

  /** Drains and stops every worker (SIGTERM; SIGKILL after 15 s). */
  async stopAll(): Promise<void> {
    this.closing = true
    await Promise.all(
      [...this.everyone].map(async (w) => {
        w.expectedExit = true
        w.child.kill('SIGCONT')
        await signalAndWait(w, 'SIGTERM', 15_000)
      }),
    )
    process.off('exit', this.killAllOnExit)
  }

  private async spawn(stage: string): Promise<WorkerProcess> {
    const o = this.options
    const logFile = join(o.logDir, `${stage}-${++this.started}.log`)
    const args = [
      join(packageRoot(), 'bin', 'run.js'),
      'worker',
      '--stage', stage,
      '--redis-url', o.url,
      '--namespace', o.namespace,
      '--out', o.outDir,
      '--reference', o.referenceDir,
      '--clock', o.clock.toISOString(),
      '--visibility-timeout', `${o.visibilityTimeoutMs}ms`,
    ]
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } })
    const log = createWriteStream(logFile)
    const worker: WorkerProcess = { stage, child, logFile, expectedExit: false }
    this.everyone.add(worker)
    const ready = new Promise<void>((resolve, reject) => {
      let seen = ''
      child.stdout?.on('data', (chunk: Buffer) => {
        log.write(chunk)
        if (seen !== READY) {
          seen = (seen + chunk.toString('utf8')).slice(-200)
          if (seen.includes(READY)) {
            seen = READY
            resolve()
          }
        }
      })
      child.stderr?.on('data', (chunk: Buffer) => log.write(chunk))
      child.once('error', reject)
      child.once('exit', (code, signal) => {
        reject(new EventspineError('E_CHAOS_WORKER', `the ${stage} worker exited while starting (code ${code ?? signal}).`, { hint: `Its output: ${logFile}\n${tail(logFile)}` }))
      })
    })
    // 'close' comes after the output pipes are drained: the log is complete.
    child.once('close', (code, signal) => {
      this.everyone.delete(worker)
      log.end()
      if (worker.expectedExit || this.closing) return
      this.unexpectedExits.push({ stage, code, signal, logTail: tail(logFile) })
      if (this.primaries.get(stage) === worker) {
        this.primaries.delete(stage)
        void this.start(stage).catch(() => {})
      }
    })
    await ready
    return worker
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

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-8).join('\n')
  } catch {
    return ''
  }
}
