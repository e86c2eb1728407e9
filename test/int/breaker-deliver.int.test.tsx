import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { render } from 'ink-testing-library'
import { afterEach, describe, expect, it } from 'vitest'
import { readBreaker } from '../../src/bus/index.js'
import { startPipeline, type Intake } from '../../src/pipeline/host/index.js'
import { projectionState } from '../../src/pipeline/host/http.js'
import { readFileJourney } from '../../src/pipeline/projections.js'
import { STAGE } from '../../src/pipeline/stages/names.js'
import { Dashboard } from '../../src/ui/Dashboard.js'
import { pausedLines } from '../../src/ui/format.js'
import { waitFor } from '../support/bus.js'
import { expected, fixturesDir } from '../support/fixtures.js'
import { testNamespace, testRedisUrl } from '../support/namespace.js'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

// Six files deliver would write: more than the breaker's default of five failing in a row.
const files = expected.files.filter((f) => f.outcome === 'delivered' && f.path.startsWith('inbox/')).slice(0, 6)

describe("deliver's output folder unwritable (root-proof: a plain file where the folder should be)", () => {
  it('opens the breaker with zero dead letters, says why on the dashboard, and delivers everything once writable', async () => {
    const project = mkdtempSync(join(tmpdir(), 'eventspine-breaker-'))
    dirs.push(project)
    const intakes: Intake[] = []
    const pipeline = await startPipeline({
      url: testRedisUrl(),
      namespace: testNamespace('breaker'),
      projectDir: project,
      clock: () => new Date(expected.clock),
      receivedAt: () => new Date(expected.receivedAt),
      stabilityMs: 100,
      onIntake: (i) => void intakes.push(i),
    })
    try {
      // Root ignores permission bits, not a file in the way: mkdir and write fail with ENOTDIR/EEXIST.
      rmSync(pipeline.outDir, { recursive: true, force: true })
      writeFileSync(pipeline.outDir, 'not a folder\n')
      for (const f of files) copyFileSync(join(fixturesDir, f.path), join(pipeline.inboxDir, f.path.split('/')[1] as string))
      const taken = await waitFor(() => (intakes.filter((i) => i.ok).length === files.length ? intakes : null), { what: 'every file taken in' })
      const open = await waitFor(async () => {
        const b = await readBreaker(pipeline.bus, STAGE.deliver)
        return b.open ? b : null
      }, { what: "deliver's breaker to open" })
      expect(open).toMatchObject({ reason: 'failures' })
      expect(open.open && open.lastError).toMatch(/cannot write the output .*(ENOTDIR|EEXIST)/)

      const snapshot = await pipeline.refresh()
      const [line] = pausedLines(snapshot.stages)
      expect(line).toMatch(/^deliver paused: cannot write the output .*, since \d\d:\d\d:\d\d, next probe \d\d:\d\d:\d\d$/)
      const frame = (render(<Dashboard snapshot={snapshot} />).lastFrame() ?? '').replace(/\s+/g, ' ')
      expect(frame).toContain('deliver paused: cannot write the output')
      expect(await pipeline.bus.redis.xlen(pipeline.bus.keys.deadLetters(STAGE.deliver))).toBe(0)

      rmSync(pipeline.outDir)
      const journeys = projectionState(pipeline.bus, STAGE.fileJourney)
      for (const intake of taken) {
        if (!intake.ok) continue
        await waitFor(async () => (await readFileJourney(journeys, intake.correlationId))?.status === 'delivered', { what: `${intake.fileName} delivered` })
      }
      expect((await readBreaker(pipeline.bus, STAGE.deliver)).open).toBe(false)
      const after = await pipeline.refresh()
      expect(after.stages.map((s) => [s.stage, s.deadLetterBacklog, s.deadLettered])).toEqual(after.stages.map((s) => [s.stage, 0, 0]))
      expect(pausedLines(after.stages)).toEqual([])
      expect(existsSync(pipeline.outDir)).toBe(true)
    } finally {
      await pipeline.stop()
    }
  })
})
