import { defineConsumer } from '../../src/bus/index.js'

/** Every event adds one to a shared total: a read-modify-write of one key, whatever the event's key. */
export const sharedCounter = defineConsumer({
  name: 'counter',
  subscribes: ['tick'],
  async handle(_event, ctx) {
    const total = Number((await ctx.state.get('total')) ?? 0)
    ctx.state.set('total', String(total + 1))
  },
})

/** Doubles each number: adds it to a per-key total in its state and emits the double. */
export const doubler = defineConsumer({
  name: 'double',
  subscribes: ['num.added'],
  emits: ['num.doubled'],
  handle(event, ctx) {
    const { n } = event.payload as { n: number }
    ctx.state.hincrby('totals', event.key, n)
    ctx.emit({ type: 'num.doubled', payload: { n: n * 2 } })
  },
})
