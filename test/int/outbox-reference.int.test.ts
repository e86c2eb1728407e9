import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { readCorrelation } from '../../src/bus/correlation.js'
import { partitionOf } from '../../src/bus/keys.js'
import { startPipeline, type Intake, type PipelineHandle } from '../../src/pipeline/host/index.js'
import { defaultReferenceDir, packageRoot } from '../../src/pipeline/paths.js'
import { followReference, REFERENCE_CHANGED, seedReferenceFromFolder, writeReferenceChange } from '../../src/pipeline/reference-db.js'
import { shippedContracts } from '../../src/pipeline/source.js'
import { EVENT } from '../../src/pipeline/types.js'
import { testBus, waitFor } from '../support/bus.js'
import { testClient, testNamespace, testRedisUrl } from '../support/namespace.js'
import { testDatabase, testPg } from '../support/postgres.js'

const ISIN = 'LU1842936699'

/** Drops a fixture into the inbox and returns the fund name (enrich) and ticker (resolve) ISIN got in its delivered output. */
async function delivered(pipeline: PipelineHandle, intakes: Intake[], name: string): Promise<{ fundName: string | undefined; ticker: string | undefined }> {
  copyFileSync(join(packageRoot(), 'fixtures', 'inbox', name), join(pipeline.inboxDir, name))
  const intake = await waitFor(() => intakes.find((i) => i.fileName === name), { what: `${name} taken in` })
  if (!intake.ok) throw new Error(intake.reason)
  const row = await waitFor(async () => (await readCorrelation(pipeline.bus, intake.correlationId)).find((r) => r.kind === 'event' && r.event?.type === EVENT.delivered), { what: `${name} delivered` })
  if (row.kind !== 'event' || row.event === null) throw new Error('unreachable')
  const output = JSON.parse(readFileSync(join(pipeline.outDir, (row.event.payload as { outputPath: string }).outputPath), 'utf8')) as {
    records: { isin?: string; reference: { fundName: string } | null; identifiers: { ticker: string } | null }[]
  }
  const record = output.records.find((r) => r.isin === ISIN)
  return { fundName: record?.reference?.fundName, ticker: record?.identifiers?.ticker }
}

describe('the fund pipeline with reference data in Postgres', () => {
  it('enriches from the reference schema, and a share class renamed there (with its outbox row) is used from then on', async () => {
    const url = await testDatabase('reference')
    expect(await seedReferenceFromFolder(url, defaultReferenceDir())).toMatchObject({ url })
    const project = mkdtempSync(join(tmpdir(), 'eventspine-reference-'))
    onTestFinished(() => rmSync(project, { recursive: true, force: true }))
    const intakes: Intake[] = []
    const pipeline = await startPipeline({
      url: testRedisUrl(),
      namespace: testNamespace('obref'),
      projectDir: project,
      stabilityMs: 100,
      clock: () => new Date('2026-11-25T18:00:00.000Z'),
      onIntake: (i) => void intakes.push(i),
      referenceDb: url,
      outboxUrl: url,
    })
    onTestFinished(() => pipeline.stop())
    expect(await delivered(pipeline, intakes, 'atlas-nav-11-24-2026.csv')).toEqual({ fundName: 'Meridian Global Equity Fund I USD Dist', ticker: 'MERGEIU LX' })

    const db = await testPg(url)
    await db.query('BEGIN')
    await writeReferenceChange(db, { table: 'funds', isin: ISIN, row: { fundName: 'Meridian World Equity Fund I USD Dist' } }, { contracts: shippedContracts() })
    await writeReferenceChange(db, { table: 'identifiers', isin: ISIN, row: { ticker: 'MERWEIU LX' } }, { contracts: shippedContracts() })
    await db.query('COMMIT')
    // Relayed: both changes are on their stream, where this process's enrich and resolve follow them.
    const redis = testClient()
    await waitFor(async () => (await redis.xlen(pipeline.bus.keys.stream('reference.changed'))) === 2, { what: 'the changes relayed' })
    expect((await db.query(`SELECT "fundName" FROM reference.funds WHERE isin = $1`, [ISIN])).rows[0].fundName).toBe('Meridian World Equity Fund I USD Dist')
    // The next file naming the class (another provider's NAV of it) goes through enrich after the change.
    expect(await delivered(pipeline, intakes, 'northwind-nav-2026-11-24.csv')).toEqual({ fundName: 'Meridian World Equity Fund I USD Dist', ticker: 'MERWEIU LX' })
  })

  it('with 4 partitions the follower learns of changes in every partition (they are published by ISIN)', async () => {
    const P = 4
    const url = await testDatabase('refparts')
    await seedReferenceFromFolder(url, defaultReferenceDir())
    const bus = await testBus({ partitions: P, contracts: shippedContracts() })
    const warnings: string[] = []
    const follower = await followReference(bus, url, (m) => void warnings.push(m))
    onTestFinished(() => follower.stop())
    // One made-up class per partition, as the Postgres relay publishes them: key = ISIN.
    const isins = Array.from({ length: P }, (_, p) => {
      for (let i = 0; ; i++) if (partitionOf(`XS${String(i).padStart(9, '0')}0`, P) === p) return `XS${String(i).padStart(9, '0')}0`
    })
    await bus.publish(isins.map((isin) => ({ type: REFERENCE_CHANGED, key: isin, payload: { table: 'funds', isin, row: { fundName: `Fund ${isin}` } } })))
    await waitFor(() => isins.every((isin) => follower.data.funds.get(isin)?.fundName === `Fund ${isin}`), { what: 'a change from every partition applied' })
    expect(warnings).toEqual([])
  })
})
