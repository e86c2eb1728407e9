import { defineConsumer } from '../../../src/bus/index.js'

/**
 * CORRECT: a read-modify-write of one global document shared by every key. Events of
 * different keys handled in the same wave read the same document: the wave engine must defer
 * the second so the result is that of one at a time.
 */
export const globalDocument = defineConsumer({
  name: 'global-document',
  subscribes: ['account.credited'],
  async handle(event, ctx) {
    const doc = JSON.parse((await ctx.state.get('summary')) ?? '{"credits":0,"total":0,"accounts":[]}') as { credits: number; total: number; accounts: string[] }
    const accounts = doc.accounts.includes(event.key) ? doc.accounts : [...doc.accounts, event.key].sort()
    ctx.state.setJson('summary', { credits: doc.credits + 1, total: doc.total + (event.payload as { amount: number }).amount, accounts })
  },
})
