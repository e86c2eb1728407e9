import type { EventEnvelope } from '../events/envelope.js'
import { deriveEventId, type EventId } from '../events/ids.js'
import type { EmitEffect, HandlerContext } from './context.js'
import type { ConsumerContext, Emit } from './types.js'

/**
 * The context a handler sees during a window replay: the runner's context, except that each
 * emitted event gets a new id, derived from the input id, the emit's position and the replay run
 * (so downstream inboxes take it as new, and a resumed run derives the same one), and carries two
 * extra stream fields: `replayOf`, the id the first run gave the emit at the same position, and
 * `replayRun`. The causation id stays the input event's id.
 */
export function replayContext(inner: HandlerContext, event: EventEnvelope, runId: string): ConsumerContext {
  return {
    consumer: inner.consumer,
    attempt: inner.attempt,
    state: inner.state,
    emit<P>(out: Emit<P>): EventId {
      const position = inner.effects.emits.length
      const firstRunId = inner.emit(out)
      const id = deriveEventId(event.id, `${inner.consumer}#${position}#replay:${runId}`)
      // The envelope's id is the first field.
      const { fields } = inner.effects.emits[position] as EmitEffect
      if (fields[0] !== 'id' || fields[1] !== firstRunId) throw new Error('replay: unexpected layout of an emitted event')
      fields[1] = id
      fields.push('replayOf', firstRunId, 'replayRun', runId)
      return id
    },
  }
}
