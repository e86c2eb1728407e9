import { setTimeout as sleep } from 'node:timers/promises'
import { consumerStatus, type Bus, type ConsumerDefinition, type ConsumerStatus } from '../bus/index.js'
import { STAGE_NAMES } from '../pipeline/stages/names.js'

/**
 * Consumers of a project that the manifest knows nothing about (an audit log, a team's own
 * projection): a load run cannot check their outcome per file, so it reports their figures and
 * checks that they kept up, leaving nothing pending or dead-lettered.
 */
export interface OwnConsumerFigures {
  readonly consumer: string
  readonly handled: number
  /** Handled per second of the run. */
  readonly perSecond: number
  readonly maxLag: number
  readonly maxPending: number
  /** At the end, once the run settled: still undelivered to it, and delivered but not acknowledged. */
  readonly lag: number | null
  readonly pending: number
  readonly retries: number
  readonly deadLetters: number
}

/** The project's consumers that are not stages of the fund pipeline. */
export function manifestUnknown<C extends { readonly name: string }>(consumers: readonly C[]): C[] {
  return consumers.filter((c) => !STAGE_NAMES.includes(c.name))
}

/**
 * Once every file has ended, waits for these consumers to catch up (nothing undelivered or
 * pending), or until none has handled anything for `idleTimeoutMs`.
 */
export async function settle(bus: Bus, consumers: readonly ConsumerDefinition[], options: { idleTimeoutMs: number; signal?: AbortSignal | undefined }): Promise<ConsumerStatus[]> {
  let handled = -1
  let changedAt = performance.now()
  for (;;) {
    const status = await consumerStatus(bus, consumers)
    if (status.every((s) => (s.lag ?? 0) === 0 && s.pending === 0)) return status
    const now = status.reduce((a, s) => a + s.handled + s.deadLettered, 0)
    if (now !== handled) [handled, changedAt] = [now, performance.now()]
    if (performance.now() - changedAt > options.idleTimeoutMs || options.signal?.aborted) return status
    await sleep(100)
  }
}

export function ownFigures(status: readonly ConsumerStatus[], lags: ReadonlyMap<string, { maxLag: number; maxPending: number }>, elapsedMs: number): OwnConsumerFigures[] {
  return status.map((s) => ({
    consumer: s.consumer,
    handled: s.handled,
    perSecond: Math.round((s.handled * 1000) / Math.max(elapsedMs, 1)),
    maxLag: lags.get(s.consumer)?.maxLag ?? 0,
    maxPending: lags.get(s.consumer)?.maxPending ?? 0,
    lag: s.lag,
    pending: s.pending,
    retries: s.retries,
    deadLetters: s.deadLettered,
  }))
}

/** What a consumer left behind: each counts as a mismatch of the run. */
export function leftBehind(figures: readonly OwnConsumerFigures[]): string[] {
  return figures.flatMap((f) => {
    const left = [
      (f.lag ?? 0) > 0 ? `${f.lag} never delivered to it` : '',
      f.pending > 0 ? `${f.pending} pending (delivered, not acknowledged)` : '',
      f.deadLetters > 0 ? `${f.deadLetters} dead-lettered` : '',
    ].filter((w) => w !== '')
    return left.length === 0 ? [] : [`${f.consumer}: ${left.join(', ')} at the end of the run`]
  })
}
