import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { migrateOutbox, writeOutbox } from '../../src/outbox/index.js'
import { startPipeline } from '../../src/pipeline/host/index.js'
import { openWorker } from '../../src/pipeline/host/session.js'
import { loadProject } from '../../src/project/load.js'
import { testClient, testNamespace, testRedisUrl } from '../support/namespace.js'
import { waitFor } from '../support/bus.js'
import { testDatabase, testPg } from '../support/postgres.js'

describe('the outbox relay in a pipeline host', () => {
  it("relays rows to a team's own consumer, with lag and rate in the snapshot and on /metrics", async () => {
    const project = await loadProject({ configPath: join(import.meta.dirname, '..', 'check', 'project', 'pipeline.config.ts') })
    const url = await testDatabase('host')
    const db = await testPg(url)
    await migrateOutbox(db)
    const dir = mkdtempSync(join(tmpdir(), 'eventspine-outbox-host-'))
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
    const pipeline = await startPipeline({ url: testRedisUrl(), namespace: testNamespace('obhost'), projectDir: dir, source: project, stages: ['ledger'], outboxUrl: url })
    onTestFinished(() => pipeline.stop())
    await db.query('BEGIN')
    for (const amount of [5, 7, 11]) {
      await writeOutbox(db, { type: 'account.credited', key: 'acc-042', payload: { accountId: 'acc-042', amount, currency: 'EUR' } }, { contracts: project.contracts() })
    }
    await db.query('COMMIT')
    const redis = testClient()
    const stateKey = `{${pipeline.bus.namespace}}:state:ledger:account:acc-042`
    await waitFor(async () => (await redis.hget(stateKey, 'balance')) === '23', { what: 'the ledger to apply the relayed credits' })
    const snapshot = await pipeline.refresh()
    expect(snapshot.outbox).toMatchObject({ backlog: 0, published: 3, deadLettered: 0 })
    expect(snapshot.outbox?.database).toBe(url)
    expect(snapshot.outbox?.perSecond).toBeGreaterThan(0)
  })

  it("a worker relays the outbox the project's config names, with no --outbox", async () => {
    const project = await loadProject({ configPath: join(import.meta.dirname, '..', 'check', 'project', 'pipeline.config.ts') })
    const url = await testDatabase('config')
    const dir = mkdtempSync(join(tmpdir(), 'eventspine-outbox-config-'))
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
    const { pipeline, outbox } = await openWorker({ redisUrl: testRedisUrl(), namespace: testNamespace('obconf'), projectDir: dir, stages: ['ledger'], source: { ...project, outbox: url } })
    onTestFinished(() => pipeline.stop())
    expect(outbox).toMatchObject({ url, source: 'url' })
    const db = await testPg(url)
    await waitFor(async () => (await db.query(`SELECT to_regclass('eventspine_outbox') IS NOT NULL AS ok`)).rows[0].ok, { what: 'the relay to migrate the table' })
    expect((await pipeline.refresh()).outbox).toMatchObject({ backlog: 0, database: url })
  })

  it('serves the outbox families on /metrics', async () => {
    const url = await testDatabase('metrics')
    const dir = mkdtempSync(join(tmpdir(), 'eventspine-outbox-metrics-'))
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
    const pipeline = await startPipeline({ url: testRedisUrl(), namespace: testNamespace('obmetrics'), projectDir: dir, httpPort: 0, stabilityMs: 100, outboxUrl: url })
    onTestFinished(() => pipeline.stop())
    const text = await waitFor(async () => {
      const body = await (await fetch(`${pipeline.http?.url}/metrics`)).text()
      return /^eventspine_outbox_backlog 0$/m.test(body) ? body : null
    }, { what: 'the outbox backlog on /metrics' })
    for (const family of ['eventspine_outbox_lag_seconds 0', 'eventspine_outbox_rows_per_second 0', 'eventspine_outbox_published_total 0', 'eventspine_outbox_dead_lettered_total 0']) {
      expect(text).toMatch(new RegExp(`^${family}$`, 'm'))
    }
  })
})
