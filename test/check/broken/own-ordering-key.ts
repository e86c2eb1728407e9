import { defineConsumer } from '../../../src/bus/index.js'

/**
 * BROKEN: keeps the last amount per key, but orders by correlation id (its own orderingKey):
 * two credits of one key from different correlations sit in different queues and may commit in either order.
 */
export const ownOrderingKey = defineConsumer({
  name: 'last-amount',
  subscribes: ['account.credited'],
  orderingKey: (event) => event.correlationId,
  handle(event, ctx) {
    ctx.state.hset('last-amount', event.key, String((event.payload as { amount: number }).amount))
  },
})
