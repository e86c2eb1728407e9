import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { consumerStatus, defineConsumer, type Bus, type ConsumerDefinition } from '../../src/bus/index.js'
import { defaultContractsDir, loadContracts } from '../../src/events/index.js'
import { EVENT, NAV_LATEST_HASH, pipelineConsumers, receivedEvent, STAGE, type ValidatedPayload } from '../../src/pipeline/index.js'
import { navCandidates } from '../../src/pipeline/projections.js'
import { packageRoot } from '../../src/pipeline/paths.js'
import { reconcile } from '../../src/pipeline/reconcile/index.js'
import { builtinSource, type PipelineSource } from '../../src/pipeline/source.js'
import { testBus, waitFor } from '../support/bus.js'
import { expected } from '../support/fixtures.js'

const fast = { blockMs: 100, visibilityTimeoutMs: 2_000, retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 } }
const clock = () => new Date(expected.clock)
const receivedAt = new Date(expected.receivedAt)

/**
 * A new version of nav-latest, kept in another shape (one hash per ISIN) and deliberately wrong:
 * it truncates the NAV to two decimals. Its readModel maps it onto nav-latest's rows.
 */
function navLatestV2(): ConsumerDefinition {
  return defineConsumer({
    name: 'nav-latest-v2',
    subscribes: [EVENT.validated],
    emits: [],
    readModel: (e) => (e.field === 'nav' ? undefined : e.field === 'row' ? { key: e.name.slice('isin:'.length), value: e.value } : undefined),
    async handle(event, ctx) {
      for (const [isin, c] of navCandidates(event.payload as ValidatedPayload, event.correlationId)) {
        const held = await ctx.state.hget(`isin:${isin}`, 'navDate')
        if (held !== null && held > c.navDate) continue
        const nav = Math.trunc(c.nav * 100) / 100
        ctx.state.hset(`isin:${isin}`, 'navDate', c.navDate)
        ctx.state.hset(`isin:${isin}`, 'row', `${nav} ${c.currency} ${c.navDate}`)
      }
    },
  })
}

function sourceWith(extra: readonly ConsumerDefinition[]): PipelineSource {
  const builtin = builtinSource()
  return { ...builtin, consumers: (host) => [...builtin.consumers(host), ...extra] }
}

async function runFixtures(bus: Bus, consumers: readonly ConsumerDefinition[]): Promise<number> {
  const runners = bus.run(consumers, fast)
  onTestFinished(() => runners.stop())
  const files = (await readdir(join(packageRoot(), 'fixtures', 'inbox'))).sort()
  for (const f of files) await bus.publish(receivedEvent(f, readFileSync(join(packageRoot(), 'fixtures', 'inbox', f)), { receivedAt }))
  await waitFor(async () => (await consumerStatus(bus, consumers)).every((s) => s.lag === 0 && s.pending === 0) && (await bus.redis.xlen(bus.keys.stream(EVENT.received))) === files.length, { what: 'pipeline drained' })
  return files.length
}

async function outDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'eventspine-reconcile-'))
  onTestFinished(() => rm(dir, { recursive: true, force: true }))
  await mkdir(dir, { recursive: true })
  return dir
}

describe('pipeline reconcile on the real pipeline', () => {
  it('counts every file to one ending, every read to a commit, and money to the documents; a wrong projection version is found by key', async () => {
    const bus = await testBus({ contracts: loadContracts(defaultContractsDir()) })
    const consumers = [...pipelineConsumers({ outDir: await outDir(), clock }), navLatestV2()]
    const files = await runFixtures(bus, consumers)
    const source = sourceWith([navLatestV2()])

    const report = await reconcile(bus, source, { state: ['nav-latest', 'nav-latest:nav-latest-v2'], money: true })
    // Counts: every file received has exactly one ending.
    const received = report.files.groups.reduce((a, g) => a + g.received, 0)
    const ended = report.files.groups.reduce((a, g) => a + Object.values(g.endings).reduce((x, y) => x + y, 0), 0)
    expect(received).toBe(files)
    expect(ended).toBe(files)
    expect(report.files.inFlight).toEqual([])
    expect(report.files.groups.find((g) => g.provider === 'atlas' && g.kind === 'nav')).toMatchObject({ received: 2, endings: { [EVENT.delivered]: 2 } })
    // Per consumer and per stream the numbers add up.
    expect(report.flow.problems).toEqual([])
    expect(report.flow.consumers.find((c) => c.consumer === STAGE.validate)).toMatchObject({ unaccounted: 0, pending: 0 })
    expect(report.flow.streams.find((s) => s.stream === EVENT.received)?.appended).toBe(files)
    // State: nav-latest equals its rebuild; the v2 read model differs, listed by ISIN.
    const [rebuilt, v2] = report.states
    expect(rebuilt?.comparison).toMatchObject({ differing: 0 })
    expect(rebuilt?.comparison.leftRows).toBeGreaterThan(0)
    expect(v2?.comparison.leftRows).toBe(v2?.comparison.rightRows)
    expect(v2?.comparison.differing).toBeGreaterThan(0)
    const atlas = v2?.comparison.differences.find((d) => d.key === 'US38147Q6272')
    expect(atlas).toEqual({ key: 'US38147Q6272', left: '67.2752 USD 2026-11-25', right: '67.27 USD 2026-11-25' })
    // Money: nav-latest serves the delivered documents' NAVs, and the classes add up to the funds.
    expect(report.money?.problems).toEqual([])
    expect(report.money?.funds.length).toBeGreaterThan(0)
    // Only the wrong version is unexplained: the command exits 1 with it.
    expect(report.unexplained).toHaveLength(1)
    expect(report.unexplained[0]).toMatch(/^nav-latest \(\d+ rows\) and nav-latest-v2 \(\d+ rows\) differ in \d+ rows: .*US38147Q6272/)
  })

  it('money: a NAV the read model serves that no delivered document says is found by fund and share class', async () => {
    const bus = await testBus({ contracts: loadContracts(defaultContractsDir()) })
    const consumers = pipelineConsumers({ outDir: await outDir(), clock })
    await runFixtures(bus, consumers)
    const key = bus.keys.state(STAGE.navLatest, NAV_LATEST_HASH)
    const served = JSON.parse((await bus.redis.hget(key, 'US38147Q7189')) as string) as { nav: number }
    await bus.redis.hset(key, 'US38147Q7189', JSON.stringify({ ...served, nav: served.nav * 10 }))
    const report = await reconcile(bus, builtinSource(), { money: true })
    expect(report.unexplained).toHaveLength(1)
    expect(report.unexplained[0]).toContain('fund 549300LQ8TN6VD4R3S10 (atlas-nav-11-25-2026.csv, NAV date 2026-11-25): nav-latest serves other NAVs than the delivered document for 1 of 1 share classes: US38147Q7189 97.394 (document 9.7394)')
  })
})
