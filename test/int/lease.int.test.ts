import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { Lease } from '../../src/bus/lease.js'
import { testBus } from '../support/bus.js'

describe('lease', () => {
  it('a renew answered after a release does not mark the lease held again', async () => {
    const bus = await testBus()
    const key = bus.keys.lease('renewed')
    // Renews every 20 ms: releases land at every phase of a renew's round trip, some of them
    // while one is in flight (sent before the release, answered after it).
    for (let round = 0; round < 60; round++) {
      const lease = new Lease(bus, key, 60)
      expect(await lease.ensure()).toBe(true)
      await sleep(round % 23)
      await lease.release()
      await sleep(25)
      expect(lease.holds).toBe(false)
      expect(await bus.redis.get(key)).toBeNull()
    }
  })
})
