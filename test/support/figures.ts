import type { RuntimeSnapshot, StageFigures } from '../../src/pipeline/host/figures.js'

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

/** A runtime snapshot for view tests: one quiet process with no stages, files or warnings unless the test says. */
export const runtimeSnapshot = (extra: Partial<RuntimeSnapshot> = {}): RuntimeSnapshot => ({
  at: '2026-11-25T07:30:05.000Z',
  pid: 1,
  namespace: 'pipeline',
  redis: 'redis://127.0.0.1:6379',
  inbox: null,
  outDir: '/out',
  http: null,
  stages: [],
  recent: [],
  warnings: [],
  ...extra,
})
