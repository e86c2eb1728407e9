import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { schemaArbitrary } from '../../src/check/schema.js'
import { defaultContractsDir, loadContracts } from '../../src/events/index.js'

const registry = loadContracts([defaultContractsDir(), 'test/check/contracts'])
const seed = Number(process.env['FC_SEED'] ?? 1)

describe('JSON Schema to fast-check arbitraries', () => {
  it.each(registry.types())('every generated %s payload satisfies its contract', (type) => {
    const version = registry.latestVersion(type) as number
    const schema = registry.get(type, version)?.schema as Record<string, unknown>
    fc.assert(
      fc.property(schemaArbitrary(schema), (payload) => {
        registry.validate(type, version, payload)
      }),
      { numRuns: 40, seed },
    )
  })

  it('follows local $refs, oneOf and formats', () => {
    const schema = {
      definitions: { money: { type: 'object', required: ['amount'], properties: { amount: { type: 'integer', minimum: 1, maximum: 9 } } } },
      type: 'object',
      required: ['price', 'at', 'tag'],
      properties: { price: { $ref: '#/definitions/money' }, at: { type: 'string', format: 'date-time' }, tag: { oneOf: [{ const: 'a' }, { type: 'null' }] } },
    }
    for (const v of fc.sample(schemaArbitrary(schema), { numRuns: 30, seed }) as { price: { amount: number }; at: string; tag: unknown }[]) {
      expect(v.price.amount).toBeGreaterThanOrEqual(1)
      expect(Number.isNaN(Date.parse(v.at))).toBe(false)
      expect(['a', null]).toContain(v.tag)
    }
  })
})
