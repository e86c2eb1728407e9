import { defineConsumer, type ConsumerDefinition } from '../../bus/index.js'
import { buildOutput, deliveredPayload, joinStep, writeAtomic, type JoinState } from '../deliver.js'
import { EVENT } from '../types.js'
import { joinKey, STAGE } from './names.js'

/**
 * deliver: resolved + scored, joined per file in either order -> one output file -> delivered.
 * The file is written before the state commit: a crash in between rewrites the same bytes to
 * the same path on retry (the correlation id is the idempotency key).
 */
export function deliverConsumer(options: { outDir: string; syncOutput?: boolean }): ConsumerDefinition {
  return defineConsumer({
    name: STAGE.deliver,
    subscribes: [EVENT.resolved, EVENT.scored],
    emits: [EVENT.delivered],
    description: 'Joins the resolved records and the quality score of a file and writes its output document.',
    async handle(event, ctx) {
      const key = joinKey(event.correlationId)
      const step = joinStep(await ctx.state.getJson<JoinState>(key), event.type, event.payload)
      if (!step.ready) {
        ctx.state.setJson(key, step.state)
        return
      }
      const output = buildOutput(event.correlationId, step.resolved, step.scored)
      await writeAtomic(options.outDir, output.relativePath, output.content, { sync: options.syncOutput ?? false })
      ctx.state.del(key)
      ctx.emit({ type: EVENT.delivered, key: event.correlationId, payload: deliveredPayload(step.resolved, step.scored, output) })
    },
  })
}
