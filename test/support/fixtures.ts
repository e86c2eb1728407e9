import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { packageRoot } from '../../src/pipeline/paths.js'

/** One fixture file and what the pipeline must do with it (fixtures/expected.json). */
export interface ExpectedFile {
  readonly path: string
  readonly outcome: 'delivered' | 'rejected' | 'duplicate'
  readonly kind?: string
  readonly provider?: string
  readonly records?: number
  readonly unresolved?: number
  readonly warnings?: readonly string[]
  readonly flags?: readonly string[]
  readonly stage?: string
  readonly rules?: readonly string[]
  readonly reasons?: number
  readonly duplicateOf?: string
}

export interface Expected {
  /** "Now" for the date rules the outcomes were computed with. */
  readonly clock: string
  readonly receivedAt: string
  readonly files: readonly ExpectedFile[]
}

export const fixturesDir = join(packageRoot(), 'fixtures')
export const expected = JSON.parse(readFileSync(join(fixturesDir, 'expected.json'), 'utf8')) as Expected
