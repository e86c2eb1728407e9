import { defineConsumer } from '../../../src/bus/index.js'

/**
 * BROKEN: joins a file's resolved records and its score, assuming "resolved" always arrives
 * first. The two come from different streams, so "scored" can come first: it is then dropped.
 */
export const orderedJoin = defineConsumer({
  name: 'naive-join',
  subscribes: ['pipeline.file.scored', 'pipeline.file.resolved'],
  async handle(event, ctx) {
    const key = `join:${event.correlationId}`
    if (event.type === 'pipeline.file.resolved') {
      ctx.state.setJson(key, { fileName: (event.payload as { fileName: string }).fileName })
      return
    }
    const resolved = await ctx.state.getJson<{ fileName: string }>(key)
    if (resolved === null) return // assumes resolved came first: a scored that comes first is lost
    ctx.state.setJson(key, { ...resolved, score: (event.payload as { score: number }).score })
  },
})
