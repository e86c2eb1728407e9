import { appendFileSync, existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { defineConsumer } from '../../../../src/bus/index.js'
import type { CheckEnv } from '../../../../src/testing.js'

/**
 * A team's consumer as `pipeline test` meets it: a factory (it keeps a log file outside Redis,
 * in the folder the run gives it), per-account balances in a hash, and a receipt per credit.
 */
export const receipts = (env: CheckEnv) => {
  const log = join(env.tmpDir, 'receipts.log')
  return defineConsumer({
    name: 'receipts',
    subscribes: ['account.credited'],
    emits: ['account.receipt'],
    handle(event, ctx) {
      const { accountId, amount } = event.payload as { accountId: string; amount: number }
      if (amount > 50_000) throw new Error(`amount ${amount} needs a manual check`)
      ctx.state.hincrby('balances', accountId, amount)
      ctx.emit({ type: 'account.receipt', payload: { accountId, amount } })
      appendFileSync(log, `${accountId} ${amount}\n`)
    },
    inspect: () => (existsSync(log) ? readFileSync(log, 'utf8') : ''),
  })
}
