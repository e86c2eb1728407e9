import { EventspineError, errorMessage } from '../errors.js'
import type { Bus } from './bus.js'
import type { Effects } from './context.js'
import type { FailureKind } from './failures.js'
import { runEffects } from './effects.js'
import { retryWhileOutOfMemory } from './pressure.js'
import { INDEX_TTL_SECONDS } from './windows.js'
import type { Held } from './reader.js'
import type { RetryPolicy } from './retry.js'
import { scriptError } from './scripts.js'

interface Handled {
  readonly held: Held
  readonly effects: Effects
}

export interface CommitOutcome {
  readonly committed: readonly Handled[]
  readonly rejected: readonly { held: Held; error: unknown }[]
  readonly handled: number
  readonly duplicates: number
  /** Entries no longer pending in their group (Redis lost writes): nothing applied for them. */
  readonly stale: number
}

/**
 * Applies a wave of handled events in one script call: effects, inbox, counters, XACK. If the
 * script refuses the batch (a state key of the wrong type), nothing was written; each event is
 * then committed alone so only the culprit fails.
 */
export async function commitBatch(bus: Bus, consumer: string, token: string, batch: readonly Handled[], inboxSize: number): Promise<CommitOutcome> {
  const reply = await runCommit(bus, consumer, token, batch, inboxSize)
  const error = scriptError(reply, consumer)
  if (!error) return { committed: batch, rejected: [], handled: reply[0] as number, duplicates: reply[1] as number, stale: Number(reply[2] ?? 0) }
  if (error.code !== 'E_STATE_KEY_TYPE' || batch.length === 1) {
    if (batch.length === 1 && error.code === 'E_STATE_KEY_TYPE') return { committed: [], rejected: [{ held: (batch[0] as Handled).held, error }], handled: 0, duplicates: 0, stale: 0 }
    throw error
  }
  const outcome = { committed: [] as Handled[], rejected: [] as { held: Held; error: unknown }[], handled: 0, duplicates: 0, stale: 0 }
  for (const one of batch) {
    const single = await commitBatch(bus, consumer, token, [one], inboxSize)
    outcome.committed.push(...single.committed)
    outcome.rejected.push(...single.rejected)
    outcome.handled += single.handled
    outcome.duplicates += single.duplicates
    outcome.stale += single.stale
  }
  return outcome
}

function runCommit(bus: Bus, consumer: string, token: string, batch: readonly Handled[], inboxSize: number): Promise<unknown[]> {
  const { keys } = bus
  return runEffects(bus, {
    consumer,
    inbox: keys.inbox(consumer),
    token,
    inboxSize,
    counter: 'handled',
    items: batch.map(({ held, effects }) => ({
      ackStream: held.streamKey,
      entryId: held.entryId,
      attemptsField: held.failures > 0 ? `${held.streamKey} ${held.entryId}` : '',
      deadLetterId: '',
      eventId: held.event?.id ?? '',
      effects,
    })),
  })
}

export interface FailureResult {
  readonly attempts: number
  readonly deadLettered: boolean
}

/**
 * Records a failed attempt in the consumer's own counter; the last allowed one (or a poison
 * event, such as an invalid one) moves the entry to the dead-letter stream with its error, in
 * the same step as its XACK. A transient failure is a retry that counts no attempt.
 */
export async function recordFailure(bus: Bus, consumer: string, token: string, held: Held, error: unknown, kind: FailureKind, policy: RetryPolicy): Promise<FailureResult> {
  const { keys } = bus
  const details = [
    'error', errorMessage(error),
    'stack', stackHead(error),
    'stream', held.streamKey.slice(keys.prefix.length + 'stream:'.length),
    'entryId', held.entryId,
    'consumer', consumer,
    'failedAt', new Date().toISOString(),
  ]
  const fields = [...details, ...(held.fields ?? [])]
  const scriptKeys = [keys.attempts(consumer), keys.stats(consumer), keys.lease(consumer), keys.deadLetters(consumer), held.streamKey]
  // An event that could not be decoded has no correlation, so no index row.
  if (held.event) scriptKeys.push(keys.correlation(held.event.correlationId))
  const reply = (await retryWhileOutOfMemory(bus, () =>
    bus.redis.esFail(
      scriptKeys.length, ...scriptKeys,
      keys.group(consumer), token, policy.maxAttempts, FAIL_MODE[kind], held.entryId, INDEX_TTL_SECONDS, consumer, fields.length / 2, ...fields,
    ),
  )) as unknown[]
  const refused = scriptError(reply, consumer)
  if (refused) throw refused
  return { attempts: reply[0] as number, deadLettered: reply[1] === 1 }
}

const FAIL_MODE: Record<FailureKind, string> = { plain: '0', poison: '1', transient: 't' }

function stackHead(error: unknown): string {
  if (!(error instanceof Error) || !error.stack) return ''
  return error.stack.split('\n').slice(0, 6).join('\n')
}

export { EventspineError }
