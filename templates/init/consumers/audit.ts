import { defineConsumer } from 'eventspine'

interface Delivered {
  readonly fileName: string
  readonly kind: 'nav' | 'holdings' | 'reference'
  readonly outputPath: string
  readonly score: number
}

/**
 * Our own consumer: records every delivered file in the audit trail (an event of our own) and
 * counts delivered files per kind. Both happen in the commit that acknowledges the input event,
 * so a redelivery or a crash never records a file twice.
 */
export const audit = defineConsumer({
  name: 'audit',
  subscribes: ['pipeline.file.delivered'],
  emits: ['audit.file.recorded'],
  handle(event, ctx) {
    const file = event.payload as Delivered
    ctx.state.hincrby('delivered-per-kind', file.kind, 1)
    ctx.emit({ type: 'audit.file.recorded', payload: { fileName: file.fileName, kind: file.kind, outputPath: file.outputPath, score: file.score } })
  },
})
