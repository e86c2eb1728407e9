import { defineConsumer } from '../../../src/bus/index.js'

/**
 * BROKEN: keeps balances in process memory (shown through inspect()). Every redelivery or
 * handling before a crash adds again: memory is not part of the atomic commit.
 */
export const inMemory = () => {
  const balances = new Map<string, number>()
  return defineConsumer({
    name: 'memory-balances',
    subscribes: ['account.credited'],
    handle(event) {
      balances.set(event.key, (balances.get(event.key) ?? 0) + (event.payload as { amount: number }).amount)
    },
    inspect: () => Object.fromEntries([...balances].sort(([a], [b]) => a.localeCompare(b))),
  })
}
