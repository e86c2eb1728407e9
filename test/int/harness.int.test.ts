import { expect, it } from 'vitest'
import { testClient, testNamespace } from '../support/namespace.js'

it('talks to the redis-server started for this run, with AOF on', async () => {
  const ns = testNamespace()
  const redis = testClient()
  await redis.set(`{${ns}}:probe`, '1')
  expect(await redis.get(`{${ns}}:probe`)).toBe('1')
  expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'yes'])
})
