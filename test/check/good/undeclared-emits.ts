import { defineConsumer } from '../../../src/bus/index.js'

/**
 * CORRECT: emits a receipt per credit without declaring `emits` (optional: it is for the
 * catalog). The harness must observe what it emitted, also after a dead-letter re-delivery (issue 19.2).
 */
export const undeclaredEmits = defineConsumer({
  name: 'receipts',
  subscribes: ['account.credited'],
  handle(event, ctx) {
    const { accountId, amount } = event.payload as { accountId: string; amount: number }
    ctx.emit({ type: 'account.receipt', payload: { accountId, amount } })
  },
})
