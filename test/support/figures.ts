import type { StageFigures } from '../../src/pipeline/host/figures.js'

/** A stage's figures for view tests: zeros unless the test says otherwise. */
export const stageFigures = (name: string, extra: Partial<StageFigures> = {}): StageFigures => ({
  stage: name,
  handled: 0,
  reads: [],
  perSecond: null,
  lag: 0,
  pending: 0,
  retries: 0,
  duplicates: 0,
  deadLettered: 0,
  deadLetterBacklog: 0,
  p50Ms: null,
  p99Ms: null,
  ...extra,
})
