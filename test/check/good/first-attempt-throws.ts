import { defineConsumer } from '../../../src/bus/index.js'

/**
 * CORRECT: fails the first attempt of every event (a cold cache, a connection warming up) and
 * is otherwise pure. Its own failure plus injected ones must never dead-letter it (issue 19.1).
 */
export const firstAttemptThrows = defineConsumer({
  name: 'first-attempt-throws',
  subscribes: ['account.credited'],
  handle(event, ctx) {
    if (ctx.attempt === 1) throw new Error('cold start: the first attempt always fails')
    ctx.state.hincrby(`account:${event.key}`, 'balance', (event.payload as { amount: number }).amount)
  },
})
