import { HandlerContext, type ContextScope } from '../../bus/context.js'
import type { ContractChecker } from '../../bus/contracts.js'
import { keysFor } from '../../bus/keys.js'
import { DEFAULT_RETRY, type RetryPolicy } from '../../bus/retry.js'
import { ScriptCode, scriptError } from '../../bus/scripts.js'
import type { ConsumerDefinition } from '../../bus/types.js'
import { decodeEvent, type EventEnvelope } from '../../events/envelope.js'
import { deriveEventId, type CorrelationId, type EventId } from '../../events/ids.js'
import { errorMessage } from '../../errors.js'
import { MemoryState, type StoredValue } from './memory-state.js'

/** An input event as a case gives it: the bus fills in the rest, deterministically. */
export interface InputEvent {
  readonly type: string
  readonly key: string
  readonly payload: unknown
  /** Default: the latest version of the type's contract. */
  readonly version?: number
  /** Default: derived from the event's place in the case (`given#0`, `when#0`, ...). Give two events one id to test the inbox. */
  readonly id?: string
  /** Default: the event's key. */
  readonly correlationId?: string
}

/** What happened to one input event. */
export interface HandledInput {
  readonly phase: 'given' | 'when'
  readonly index: number
  readonly event: EventEnvelope
  /** Handler calls, as the runtime counts attempts (1 on first delivery). */
  readonly attempts: number
  /** committed; duplicate (its id was in the inbox: handled, nothing applied); dead-lettered after the last attempt. */
  readonly outcome: 'committed' | 'duplicate' | 'dead-lettered'
  /** The last attempt's error, for a dead letter (and earlier errors of a retried event). */
  readonly errors: readonly string[]
  /** Events its committed handling emitted. */
  readonly emitted: readonly EventEnvelope[]
}

export interface GoldenRun {
  /** Every input, given ones first. */
  readonly inputs: readonly HandledInput[]
  /** The consumer's state after the last input, by state name. */
  readonly state: ReadonlyMap<string, StoredValue>
}

export interface GoldenRunOptions {
  readonly contracts: ContractChecker
  /** Prior state, by the consumer's state names (as `ctx.state` names them). */
  readonly state?: ReadonlyMap<string, StoredValue>
  readonly given?: readonly InputEvent[]
  readonly when: readonly InputEvent[]
  readonly retry?: RetryPolicy
}

const ROOT_ID = '019ab000-0000-7000-8000-000000000000'
const BASE_TIME = Date.parse('2026-11-25T08:00:00.000Z')
/** A namespace no Redis ever sees: only the key names are needed. */
const KEYS = keysFor('golden')

/**
 * Runs a consumer's handler over input events without Redis, with the runtime's semantics:
 * one HandlerContext per attempt (the runtime's own class) reading committed state from a
 * map; its writes applied only when the event commits, with commit.lua's checks; an id
 * already committed is a duplicate (handled, nothing applied); a throw is a failed attempt,
 * retried up to the retry policy's attempts, then a dead letter. Events are handled in input
 * order, each committed before the next: what the runtime does with events arriving one at a
 * time. From a backlog it may commit events of different keys in another serializable order
 * (per-key order always holds; fuzz's ordering property explores those orders). A retry
 * happens at once (the runtime waits a backoff, and events of other keys may overtake it).
 */
export async function runGolden(consumer: ConsumerDefinition, options: GoldenRunOptions): Promise<GoldenRun> {
  const state = new MemoryState()
  const prefix = KEYS.statePrefix(consumer.name)
  for (const [name, value] of options.state ?? []) state.keys.set(KEYS.state(consumer.name, name), value)
  const scope: ContextScope = { consumer: consumer.name, source: consumer.name, keys: KEYS, reader: state, contracts: options.contracts }
  const inbox = new Set<string>()
  const maxAttempts = (options.retry ?? DEFAULT_RETRY).maxAttempts
  const inputs: HandledInput[] = []
  const phases = [['given', options.given ?? []], ['when', options.when]] as const
  let position = 0
  for (const [phase, events] of phases) {
    for (const [index, input] of events.entries()) {
      const event = admit(input, phase, index, position++, options.contracts)
      const errors: string[] = []
      let outcome: HandledInput['outcome'] = 'dead-lettered'
      let emitted: EventEnvelope[] = []
      let attempts = 0
      while (attempts < maxAttempts) {
        attempts++
        const ctx = new HandlerContext(scope, event, attempts)
        try {
          await consumer.handle(event, ctx)
          const { writes, emits } = ctx.effects
          const wrongKey = state.wrongTypeKey(writes)
          if (wrongKey !== undefined) throw scriptError([ScriptCode.WrongKeyType, wrongKey], consumer.name)
          if (inbox.has(event.id)) outcome = 'duplicate'
          else {
            state.apply(writes)
            inbox.add(event.id)
            emitted = emits.map((e) => decodeEvent(e.fields, `${consumer.name}'s emit`))
            outcome = 'committed'
          }
          break
        } catch (error) {
          errors.push(errorMessage(error))
        }
      }
      inputs.push({ phase, index, event, attempts, outcome, errors, emitted })
    }
  }
  const names = new Map<string, StoredValue>()
  for (const [key, value] of [...state.keys].sort(([a], [b]) => a.localeCompare(b))) names.set(key.slice(prefix.length), value)
  return { inputs, state: names }
}

/** The envelope the runtime would hand the handler: filled in, validated as publish does, upcast as a read does. */
function admit(input: InputEvent, phase: string, index: number, position: number, contracts: ContractChecker): EventEnvelope {
  const version = input.version ?? contracts.latestVersion(input.type) ?? 1
  const where = `${phase} event #${index}`
  contracts.validate(input.type, version, input.payload, where)
  const raw: EventEnvelope = {
    id: (input.id ?? deriveEventId(ROOT_ID, `${phase}#${index}`)) as EventId,
    type: input.type,
    version,
    source: 'eventspine-golden',
    occurredAt: new Date(BASE_TIME + position * 60_000).toISOString(),
    correlationId: (input.correlationId ?? input.key) as CorrelationId,
    causationId: '',
    key: input.key,
    payload: input.payload,
  }
  const lifted = contracts.upcast(raw)
  if (lifted !== raw) contracts.validate(lifted.type, lifted.version, lifted.payload, `${where}, upcast from v${raw.version}`)
  return lifted
}
