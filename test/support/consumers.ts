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
