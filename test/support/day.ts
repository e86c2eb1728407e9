import { expect } from 'vitest'
import type { LoadReport } from '../../src/sim/drive-day.js'
import { describe as describeOutcome } from '../../src/sim/outcome.js'

/** A load run that lost nothing: no mismatch (each listed, readable), no file missing, no dead letter. */
export function expectNothingLost(report: LoadReport): void {
  expect(report.mismatchList.map((m) => `${m.file} [${m.faults.join()}]: ${m.why ?? ''} ${describeOutcome(m.expected)} vs ${describeOutcome(m.actual)}`)).toEqual([])
  expect(report.mismatches).toBe(0)
  expect(report.outcomes.missing).toBe(0)
  expect(report.deadLetters).toBe(0)
}
