import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { loadProject } from '../../src/project/load.js'
import { generateDay } from '../../src/sim/day.js'
import { runLoad } from '../../src/sim/drive-day.js'
import { describe as describeOutcome } from '../../src/sim/outcome.js'
import { writeDay } from '../../src/sim/store.js'
import { testNamespace, testRedisUrl } from '../support/namespace.js'
import { contractText, scratchProject, teamValidate } from '../support/project.js'

const work = mkdtempSync(join(tmpdir(), 'load-project-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))


const audit = `import { defineConsumer } from EVENTSPINE
export const audit = defineConsumer({
  name: 'audit',
  subscribes: ['pipeline.file.delivered'],
  emits: ['audit.file.recorded'],
  handle(event, ctx) {
    ctx.state.hincrby('files', 'delivered', 1)
    ctx.emit({ type: 'audit.file.recorded', payload: { fileName: String((event.payload as { fileName: string }).fileName) } })
  },
})
`

function teamProject(skip: string | null): string {
  return scratchProject({
    'pipeline.config.ts': `import { defineConfig, fundPipeline } from EVENTSPINE
import { validate } from './consumers/validate.js'
import { audit } from './consumers/audit.js'
export default defineConfig({ consumers: [fundPipeline(), validate, audit], contracts: './contracts' })`,
    'consumers/validate.ts': teamValidate(skip, { eventspine: resolve('src/index.ts'), fund: resolve('src/fund.ts') }),
    'consumers/audit.ts': audit,
    'contracts/audit.file.recorded/v1.schema.json': contractText('audit.file.recorded', ['fileName']),
  })
}

describe('pipeline load through a project config', () => {
  // A small day with a fault in one file of four: rejections of every family occur.
  const day = writeDay(generateDay({ eventsPerDay: 400, date: '2026-11-20', seed: 21, faults: 0.25 }), join(work, 'day'))

  it("runs the team's validate against the manifest, and reports and checks the consumers the manifest does not know", async () => {
    const source = await loadProject({ cwd: teamProject(null) })
    const report = await runLoad({ url: testRedisUrl(), namespace: testNamespace('loadp'), day, speed: 'max', maxInFlight: 32, outDir: join(work, 'out-1'), source })
    expect(report.mismatchList.map((m) => `${m.file}: ${describeOutcome(m.expected)} vs ${describeOutcome(m.actual)}`)).toEqual([])
    expect(report.mismatches).toBe(0)
    expect(report.outcomes.rejected).toBeGreaterThan(0)
    expect(report.consumers.map((c) => c.consumer)).toEqual(['audit'])
    const [auditFigures] = report.consumers
    expect(auditFigures).toMatchObject({ handled: report.outcomes.delivered, lag: 0, pending: 0, retries: 0, deadLetters: 0 })
    expect(report.leftBehind).toEqual([])
  })

  it('a validate with a bug in one rule fails the manifest check, and the mismatches name the rule', async () => {
    const source = await loadProject({ cwd: teamProject('isin-check-digit') })
    const report = await runLoad({ url: testRedisUrl(), namespace: testNamespace('loadp'), day, speed: 'max', maxInFlight: 32, outDir: join(work, 'out-2'), source })
    expect(report.mismatches).toBeGreaterThan(0)
    const lines = report.mismatchList.map((m) => describeOutcome(m.expected))
    expect(lines.every((l) => l.includes('isin-check-digit'))).toBe(true)
  })
})
