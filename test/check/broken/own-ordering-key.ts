import { defineConsumer } from '../../../src/bus/index.js'

/**
 * BROKEN: keeps the last amount per key, but orders by account (its own orderingKey): two
 * credits of one key to different accounts sit in different queues and may commit in either order.
 */
export const ownOrderingKey = defineConsumer({
  name: 'last-amount',
  subscribes: ['account.credited'],
  orderingKey: (event) => (event.payload as { accountId: string }).accountId,
  handle(event, ctx) {
    ctx.state.hset('last-amount', event.key, String((event.payload as { amount: number }).amount))
  },
})
