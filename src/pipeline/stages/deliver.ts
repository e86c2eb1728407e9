import { PoisonError, defineConsumer, type BreakerPolicy, type ConsumerDefinition } from '../../bus/index.js'
import { filePartitionKey } from '../intake.js'
import { errorMessage } from '../../errors.js'
import { buildOutput, deliveredPayload, joinStep, writeAtomic, type JoinState } from '../deliver.js'
import { EVENT } from '../types.js'
import { joinKey, STAGE } from './names.js'

/**
 * deliver: resolved + scored, joined per file in either order -> one output file -> delivered.
 * The file is written before the state commit: a crash in between rewrites the same bytes to
 * the same path on retry (the correlation id is the idempotency key). An output folder that
 * cannot be written is a TransientError (see writeAtomic): deliver's breaker opens and nothing
 * is dead-lettered; a payload it cannot read is a PoisonError.
 */
export function deliverConsumer(options: { outDir: string; syncOutput?: boolean; breaker?: Partial<BreakerPolicy> }): ConsumerDefinition {
  return defineConsumer({
    // Relative CPU per file, for load --workers: writes each file's output document.
    cost: 2,
    name: STAGE.deliver,
    ...(options.breaker === undefined ? {} : { breaker: options.breaker }),
    subscribes: [EVENT.resolved, EVENT.scored],
    emits: [EVENT.delivered],
    description: 'Joins the resolved records and the quality score of a file and writes its output document.',
    async handle(event, ctx) {
      const key = joinKey(event.correlationId)
      const stored = await ctx.state.getJson<JoinState>(key)
      const step = readable(() => joinStep(stored, event.type, event.payload))
      if (!step.ready) {
        ctx.state.setJson(key, step.state)
        return
      }
      const output = readable(() => buildOutput(event.correlationId, step.resolved, step.scored))
      await writeAtomic(options.outDir, output.relativePath, output.content, { sync: options.syncOutput ?? false })
      ctx.state.del(key)
      ctx.emit({ type: EVENT.delivered, key: event.correlationId, partitionKey: filePartitionKey(step.resolved), payload: deliveredPayload(step.resolved, step.scored, output) })
    },
  })
}

/** The event is wrong (a type deliver cannot join, a payload it cannot read): no retry helps. */
function readable<T>(build: () => T): T {
  try {
    return build()
  } catch (error) {
    throw new PoisonError(`deliver cannot read the event: ${errorMessage(error)}`, { cause: error })
  }
}
