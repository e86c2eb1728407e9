import { defineConsumer, type ConsumerDefinition } from '../../bus/index.js'
import { filePartitionKey } from '../intake.js'
import { validateFile } from '../validate.js'
import { EVENT, type MappedPayload } from '../types.js'
import { STAGE } from './names.js'

/** validate: mapped -> validated (with warnings) | rejected(stage validate, every reason). */
export function validateConsumer(options: { clock: () => Date; weightTolerance?: number }): ConsumerDefinition {
  return defineConsumer({
    name: STAGE.validate,
    subscribes: [EVENT.mapped],
    emits: [EVENT.validated, EVENT.rejected],
    description: 'Checks ISINs, LEIs, currencies, NAVs, dates and holding weights; rejects a file with every fatal reason.',
    handle(event, ctx) {
      const mapped = event.payload as MappedPayload
      const result = validateFile(mapped, {
        now: options.clock(),
        ...(options.weightTolerance === undefined ? {} : { weightTolerance: options.weightTolerance }),
      })
      ctx.emit({ type: result.ok ? EVENT.validated : EVENT.rejected, key: event.correlationId, partitionKey: filePartitionKey(mapped), payload: result.payload })
    },
  })
}
