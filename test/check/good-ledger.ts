import { defineConsumer } from '../../src/bus/index.js'

/** A correct user consumer: per-account totals and a credit count, all through ctx.state. */
export const ledger = defineConsumer({
  name: 'ledger',
  subscribes: ['account.credited'],
  handle(event, ctx) {
    const { amount } = event.payload as { amount: number }
    ctx.state.hincrby(`account:${event.key}`, 'balance', amount)
    ctx.state.hincrby(`account:${event.key}`, 'credits', 1)
  },
})
