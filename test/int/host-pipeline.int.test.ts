import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { readCorrelation } from '../../src/bus/correlation.js'
import { startPipeline, type Intake, type PipelineHandle } from '../../src/pipeline/host/index.js'
import { projectionState } from '../../src/pipeline/host/http.js'
import { readFileJourney, type FileJourney } from '../../src/pipeline/projections.js'
import { STAGE } from '../../src/pipeline/stages/names.js'
import { EVENT, type DuplicatePayload, type RejectedPayload } from '../../src/pipeline/types.js'
import { waitFor } from '../support/bus.js'
import { testNamespace, testRedisUrl } from '../support/namespace.js'
import { expected, fixturesDir } from '../support/fixtures.js'

const fixtures = fixturesDir
const TERMINAL = new Set(['delivered', 'rejected', 'duplicate'])
const dirs: string[] = []

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

async function host(options: { stabilityMs?: number } = {}): Promise<{ pipeline: PipelineHandle; intakes: Intake[]; project: string }> {
  const project = mkdtempSync(join(tmpdir(), 'eventspine-host-'))
  dirs.push(project)
  const intakes: Intake[] = []
  const pipeline = await startPipeline({
    url: testRedisUrl(),
    namespace: testNamespace('host'),
    projectDir: project,
    clock: () => new Date(expected.clock),
    receivedAt: () => new Date(expected.receivedAt),
    stabilityMs: options.stabilityMs ?? 100,
    onIntake: (i) => void intakes.push(i),
  })
  return { pipeline, intakes, project }
}

async function journeyOf(pipeline: PipelineHandle, correlationId: string, name: string): Promise<FileJourney> {
  let last: FileJourney | null = null
  try {
    return await waitFor(
      async () => {
        last = await readFileJourney(projectionState(pipeline.bus, STAGE.fileJourney), correlationId)
        return last !== null && TERMINAL.has(last.status) ? last : null
      },
      { what: `${name} (${correlationId}) to finish` },
    )
  } catch (error) {
    const stages = (await pipeline.refresh()).stages.map((s) => `${s.stage}: handled ${s.handled} lag ${s.lag} pending ${s.pending} retries ${s.retries}`)
    throw new Error(`${String(error)}; journey ${JSON.stringify(last)}; ${stages.join('; ')}`)
  }
}

async function eventOf<P>(pipeline: PipelineHandle, correlationId: string, type: string): Promise<P> {
  const item = (await readCorrelation(pipeline.bus, correlationId)).find((i) => i.kind === 'event' && i.type === type)
  if (item?.kind !== 'event' || item.event === null) throw new Error(`no ${type} event for ${correlationId}`)
  return item.event.payload as P
}

describe('startPipeline: the inbox end to end', () => {
  it('takes every fixture in and delivers or rejects it as expected.json says', async () => {
    const { pipeline, intakes } = await host()
    try {
      const ids = new Map<string, string>()
      for (const file of expected.files) {
        const name = file.path.split('/')[1] as string
        copyFileSync(join(fixtures, file.path), join(pipeline.inboxDir, name))
        const intake = await waitFor(() => intakes.find((i) => i.fileName === name && !ids.has(file.path) && i.ok), { what: `${name} to be taken in` })
        if (!intake.ok) throw new Error('unreachable')
        ids.set(file.path, intake.correlationId)
        const journey = await journeyOf(pipeline, intake.correlationId, file.path)
        expect(journey.status, file.path).toBe(file.outcome)
        if (file.outcome === 'delivered') {
          const delivered = await eventOf<{ outputPath: string }>(pipeline, intake.correlationId, EVENT.delivered)
          const output = JSON.parse(readFileSync(join(pipeline.outDir, delivered.outputPath), 'utf8')) as Record<string, any>
          expect(
            {
              kind: output['kind'],
              provider: output['provider'],
              records: output['records'].length,
              unresolved: output['unresolved'],
              warnings: [...new Set((output['warnings'] as { rule: string }[]).map((w) => w.rule))],
              flags: (output['quality'].flags as { rule: string }[]).map((f) => f.rule),
            },
            file.path,
          ).toEqual({ kind: file.kind, provider: file.provider, records: file.records, unresolved: file.unresolved, warnings: file.warnings, flags: file.flags })
        } else if (file.outcome === 'rejected') {
          const rejected = await eventOf<RejectedPayload>(pipeline, intake.correlationId, EVENT.rejected)
          expect({ stage: rejected.stage, rules: [...new Set(rejected.reasons.map((r) => r.rule))], reasons: rejected.reasons.length }, file.path).toEqual({
            stage: file.stage,
            rules: file.rules,
            reasons: file.reasons,
          })
          expect(journey.reasons?.length).toBe(file.reasons)
        } else {
          const duplicate = await eventOf<DuplicatePayload>(pipeline, intake.correlationId, EVENT.duplicate)
          expect(duplicate.firstCorrelationId).toBe(ids.get(file.duplicateOf ?? ''))
        }
      }
      // Every file left the inbox for .done/, so a restart takes nothing in twice.
      expect(readdirSync(pipeline.inboxDir).filter((n) => !n.startsWith('.'))).toEqual([])
      expect(readdirSync(join(pipeline.inboxDir, '.done')).sort()).toEqual(expected.files.map((f) => f.path.split('/')[1]).sort())
      const snapshot = await pipeline.refresh()
      const deliver = snapshot.stages.find((s) => s.stage === STAGE.deliver)
      expect(deliver?.handled).toBeGreaterThan(0)
      expect(deliver?.p99Ms).toBeGreaterThan(0)
      expect(snapshot.recent.length).toBeGreaterThan(0)
    } finally {
      await pipeline.stop()
    }
  })

  it('reads a file written slowly only once it is complete, and ignores .part and dotfiles', async () => {
    const { pipeline, intakes } = await host({ stabilityMs: 600 })
    try {
      const content = readFileSync(join(fixtures, 'inbox', 'northwind-nav-2026-11-24.csv'))
      const half = Math.floor(content.length / 2)
      writeFileSync(join(pipeline.inboxDir, '.hidden.csv'), content)
      writeFileSync(join(pipeline.inboxDir, 'upload.csv.part'), content)
      const handle = await open(join(pipeline.inboxDir, 'slow.csv'), 'w')
      await handle.write(content.subarray(0, half))
      await sleep(250)
      await handle.write(content.subarray(half))
      await handle.close()
      const intake = await waitFor(() => intakes.find((i) => i.fileName === 'slow.csv'), { what: 'slow.csv to be taken in' })
      if (!intake.ok) throw new Error(intake.reason)
      const journey = await journeyOf(pipeline, intake.correlationId, 'slow.csv')
      expect(journey.status, JSON.stringify(journey.reasons)).toBe('delivered')
      const delivered = await eventOf<{ recordCount: number }>(pipeline, intake.correlationId, EVENT.delivered)
      expect(delivered.recordCount).toBe(8)
      await sleep(800)
      expect(intakes.map((i) => i.fileName)).toEqual(['slow.csv'])
      expect(existsSync(join(pipeline.inboxDir, 'upload.csv.part'))).toBe(true)
      expect(existsSync(join(pipeline.inboxDir, '.hidden.csv'))).toBe(true)
    } finally {
      await pipeline.stop()
    }
  })

  it('sets aside a file too large to publish, with the reason beside it', async () => {
    const { pipeline, intakes } = await host()
    try {
      // 3.5 MB of text: under the file limit, but base64 makes the event pass the 4 MB cap.
      writeFileSync(join(pipeline.inboxDir, 'huge.csv'), `isin,nav\n${'x'.repeat(3_500_000)}\n`)
      const intake = await waitFor(() => intakes.find((i) => i.fileName === 'huge.csv'), { what: 'huge.csv to be handled' })
      expect(intake.ok).toBe(false)
      expect(intake.movedTo).toBe(join(pipeline.inboxDir, '.failed', 'huge.csv'))
      expect(readFileSync(`${intake.movedTo}.reason.txt`, 'utf8')).toMatch(/bytes/)
      expect((await pipeline.refresh()).warnings.join('\n')).toContain('huge.csv')
    } finally {
      await pipeline.stop()
    }
  })
})
