import { expect, it } from 'vitest'
import { Redis } from 'ioredis'
import { startTestRedis } from '../support/redis-server.js'

it('starts a password-protected redis-server whose URL carries the password', async () => {
  const server = await startTestRedis({ extraArgs: ['--requirepass', 's3cret-pw'] })
  try {
    expect(server.url).toContain(':s3cret-pw@')
    const client = new Redis(server.url)
    expect(await client.ping()).toBe('PONG')
    client.disconnect()
  } finally {
    await server.stop()
  }
})
