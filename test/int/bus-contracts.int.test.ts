import { expect, it } from 'vitest'
import { defineConsumer } from '../../src/bus/index.js'
import { defaultContractsDir, loadContracts } from '../../src/events/index.js'
import { testBus, waitFor } from '../support/bus.js'

const contracts = loadContracts(defaultContractsDir())

it('refuses to publish an event its contract rejects, naming the field', async () => {
  const bus = await testBus({ contracts })
  await expect(bus.publish({ type: 'pipeline.file.received', key: 'k', payload: { fileName: 42 } })).rejects.toMatchObject({
    code: 'E_CONTRACT',
    message: expect.stringContaining('/fileName'),
  })
  expect(await bus.redis.xlen(bus.keys.stream('pipeline.file.received'))).toBe(0)
})

it('dead-letters at once an entry that fails its contract on read, with the reason', async () => {
  const bus = await testBus({ contracts })
  let calls = 0
  const consumer = defineConsumer({ name: 'strict', subscribes: ['pipeline.file.received'], handle: () => void calls++ })
  // A foreign writer bypassing publish: valid envelope, invalid payload.
  await bus.redis.xadd(bus.keys.stream('pipeline.file.received'), '*',
    'id', '0190f0f0-0000-7000-8000-000000000001', 'type', 'pipeline.file.received', 'version', '1', 'source', 'elsewhere',
    'occurredAt', new Date().toISOString(), 'correlationId', 'c1', 'causationId', '', 'key', 'k', 'payload', '{"fileName":42}')
  const runners = bus.run([consumer], { blockMs: 100 })
  const [entry] = await waitFor(async () => (await bus.redis.xrange(bus.keys.deadLetters('strict'), '-', '+'))[0] && (await bus.redis.xrange(bus.keys.deadLetters('strict'), '-', '+')))
  await runners.stop()
  const fields = entry?.[1] as string[]
  expect(fields[fields.indexOf('error') + 1]).toContain('/fileName')
  expect(fields[fields.indexOf('attempts') + 1]).toBe('1')
  expect(calls).toBe(0)
})
