import { Redis } from 'ioredis'
import { defineConsumer, keysFor } from '../../../src/bus/index.js'
import type { CheckEnv } from '../../../src/check/types.js'

const clients = new Map<string, Redis>()

/** Closes the clients the broken consumer opened (call after the check). */
export function closeCounterClients(): void {
  for (const c of clients.values()) c.disconnect()
  clients.clear()
}

/**
 * BROKEN: counts credits with a direct INCR on its own client, outside the atomic commit. A
 * redelivery, a re-sent event or a crash after the INCR and before the commit counts twice.
 */
export const counterOutsideCommit = (env: CheckEnv) => {
  let redis = clients.get(env.redisUrl)
  if (!redis) clients.set(env.redisUrl, (redis = new Redis(env.redisUrl)))
  const client = redis
  const keys = keysFor(env.namespace)
  return defineConsumer({
    name: 'credit-counter',
    subscribes: ['account.credited'],
    async handle(event, ctx) {
      await client.incr(keys.state('credit-counter', `count:${event.key}`))
      ctx.state.hincrby('totals', event.key, (event.payload as { amount: number }).amount)
    },
  })
}
