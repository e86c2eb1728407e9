import { defineConsumer } from '../../../src/bus/index.js'

/**
 * CORRECT: remembers the account credited last across all keys, and says so: it declares
 * dependsOnCrossKeyOrder, so only per-key order is held against it, not cross-key arrival order.
 */
export const lastWriterWins = defineConsumer({
  name: 'last-writer-wins',
  subscribes: ['account.credited'],
  dependsOnCrossKeyOrder: true,
  handle(event, ctx) {
    ctx.state.hset('last-by-account', event.key, String((event.payload as { amount: number }).amount))
    ctx.state.set('last-credited', event.key)
  },
})
