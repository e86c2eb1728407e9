import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * Writes a contract for each bench type (`bench.stage0` .. `bench.stage<stages>`) into a temp
 * folder, so the eventspine contender validates every payload on publish and on read with
 * compiled validators, as a real pipeline would.
 */
export function writeBenchContracts(stages: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'eventspine-bench-contracts-'))
  for (let i = 0; i <= stages; i++) {
    const type = `bench.stage${i}`
    mkdirSync(join(dir, type))
    const schema = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      title: type,
      description: `A fund's NAV for one share class and day passed stage ${i} of the benchmark chain.`,
      type: 'object',
      required: ['fundId', 'shareClass', 'navDate', 'nav', 'currency'],
      properties: {
        fundId: { type: 'string', minLength: 1 },
        shareClass: { type: 'string', pattern: '^[A-Z]{2}[A-Z0-9]{9}[0-9]$' },
        navDate: { type: 'string', format: 'date' },
        nav: { type: 'number', exclusiveMinimum: 0 },
        currency: { enum: ['EUR', 'USD', 'GBP', 'CHF'] },
        sharesOutstanding: { type: 'integer', minimum: 0 },
        totalNetAssets: { type: 'number' },
        file: { type: 'string' },
        row: { type: 'integer', minimum: 0 },
      },
    }
    writeFileSync(join(dir, type, 'v1.schema.json'), JSON.stringify(schema, null, 2))
  }
  return dir
}
