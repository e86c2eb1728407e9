import { randomUUID } from 'node:crypto'
import { defineConsumer } from '../../../src/bus/index.js'

/** BROKEN: stamps its state with the wall clock and a random id: a replay never equals live. */
export const wallClock = defineConsumer({
  name: 'stamped-balances',
  subscribes: ['account.credited'],
  async handle(event, ctx) {
    const prev = (await ctx.state.getJson<{ balance: number }>(`account:${event.key}`)) ?? { balance: 0 }
    const amount = (event.payload as { amount: number }).amount
    ctx.state.setJson(`account:${event.key}`, { balance: prev.balance + amount, updatedAt: new Date().toISOString(), version: randomUUID() })
  },
})
