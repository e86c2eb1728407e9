import { defineConsumer } from '../../../src/bus/index.js'

/**
 * BROKEN: remembers "the account credited last" across all accounts (keys) without declaring
 * dependsOnCrossKeyOrder: accounts are handled in parallel waves, so which one is last depends
 * on arrival order across keys.
 */
export const crossKeyOrder = defineConsumer({
  name: 'last-credited',
  subscribes: ['account.credited'],
  handle(event, ctx) {
    ctx.state.hincrby('totals', event.key, (event.payload as { amount: number }).amount)
    ctx.state.set('last-credited', event.key)
  },
})
