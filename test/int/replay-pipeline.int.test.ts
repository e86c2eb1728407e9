import { mkdtemp, readFile, readdir, rm, writeFile, mkdir, cp } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { consumerStatus, replayConsumer, type Bus, type ConsumerDefinition } from '../../src/bus/index.js'
import { defaultContractsDir, loadContracts } from '../../src/events/index.js'
import { EVENT, pipelineConsumers, receivedEvent, STAGE } from '../../src/pipeline/index.js'
import { defaultProfilesDir, packageRoot } from '../../src/pipeline/paths.js'
import { streamEntries, testBus, waitFor } from '../support/bus.js'
import { expected } from '../support/fixtures.js'

const fast = { blockMs: 100, visibilityTimeoutMs: 2_000, retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 } }
const clock = () => new Date(expected.clock)
const receivedAt = new Date(expected.receivedAt)

async function tempDir(label: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `eventspine-${label}-`))
  onTestFinished(() => rm(dir, { recursive: true, force: true }))
  return dir
}

function fixture(path: string): Buffer {
  return readFileSync(join(packageRoot(), 'fixtures', path))
}

async function publishFiles(bus: Bus, paths: readonly string[]): Promise<void> {
  for (const path of paths) await bus.publish(receivedEvent(path.split('/').pop() as string, fixture(path), { receivedAt }))
}

/** Every consumer has read and committed everything (lag and pending 0 on every stream). */
async function drained(bus: Bus, consumers: readonly ConsumerDefinition[]): Promise<boolean> {
  const status = await consumerStatus(bus, consumers)
  return status.every((s) => s.lag === 0 && s.pending === 0)
}

/** A consumer's state as plain data: key (without prefix) -> string or hash. */
async function stateOf(bus: Bus, consumer: string): Promise<Record<string, unknown>> {
  const prefix = bus.keys.statePrefix(consumer)
  const out: Record<string, unknown> = {}
  let cursor = '0'
  do {
    const [next, keys] = await bus.redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
    cursor = next
    for (const key of keys) {
      const type = await bus.redis.type(key)
      out[key.slice(prefix.length)] = type === 'hash' ? await bus.redis.hgetall(key) : await bus.redis.get(key)
    }
  } while (cursor !== '0')
  return out
}

async function outputs(outDir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>()
  for (const entry of await readdir(outDir, { recursive: true })) {
    if (entry.endsWith('.json')) files.set(entry, await readFile(join(outDir, entry), 'utf8'))
  }
  return files
}

describe('replay on the fund pipeline', () => {
  it('a mapping fixed and `map` replayed: corrected events flow downstream and reach delivery', async () => {
    const bus = await testBus({ contracts: loadContracts(defaultContractsDir()) })
    const outDir = await tempDir('out')
    // The day's mapping forgot a column: northwind's "Share Class" maps to nothing.
    const broken = await tempDir('profiles')
    await cp(defaultProfilesDir(), broken, { recursive: true })
    const northwind = JSON.parse(await readFile(join(broken, 'northwind.json'), 'utf8')) as { columns: Record<string, string> }
    delete northwind.columns['Share Class']
    await writeFile(join(broken, 'northwind.json'), JSON.stringify(northwind))
    const live = pipelineConsumers({ outDir, clock, profilesDir: broken })
    let runners = bus.run(live, fast)
    await publishFiles(bus, ['inbox/northwind-nav-2026-11-24.csv'])
    await waitFor(async () => (await bus.redis.xlen(bus.keys.stream(EVENT.delivered))) === 1 && drained(bus, live), { what: 'delivered' })
    const [[path, before]] = [...(await outputs(outDir))] as [[string, string]]
    expect((JSON.parse(before) as { records: { shareClassName: unknown }[] }).records[0]?.shareClassName).toBeNull()

    // Fixed mapping, deployed; the pipeline runs on, and `map` is replayed over the last hour.
    await runners.stop()
    const fixed = pipelineConsumers({ outDir, clock })
    runners = bus.run(fixed, fast)
    const mapper = fixed.find((c) => c.name === STAGE.map) as ConsumerDefinition
    const summary = await replayConsumer(bus, { consumer: mapper, since: 60 * 60 * 1000 })
    expect(summary).toMatchObject({ events: 1, applied: 1, emitted: { [EVENT.mapped]: 1 } })
    await waitFor(async () => (await bus.redis.xlen(bus.keys.stream(EVENT.delivered))) === 2 && drained(bus, fixed), { what: 'delivered again' })
    await runners.stop()

    const after = await outputs(outDir)
    expect([...after.keys()]).toEqual([path])
    const records = (JSON.parse(after.get(path) as string) as { records: { shareClassName: unknown }[] }).records
    expect(records[0]?.shareClassName).toBe('Meridian Global Equity Fund A EUR Acc')
    // The corrected mapped event points at the one it replaces; the causal chain is intact.
    const mapped = await streamEntries(bus, EVENT.mapped)
    expect(mapped).toHaveLength(2)
    expect(mapped[1]?.replayOf).toBe(mapped[0]?.id)
    expect(mapped[1]?.causationId).toBe(mapped[0]?.causationId)
    expect(mapped[1]?.correlationId).toBe(mapped[0]?.correlationId)
    const delivered = await streamEntries(bus, EVENT.delivered)
    expect(delivered[1]?.id).not.toBe(delivered[0]?.id)
  })

  it('rebuilt nav-latest and file-journey equal the projections built live', async () => {
    const bus = await testBus({ contracts: loadContracts(defaultContractsDir()) })
    const outDir = await tempDir('out')
    const consumers = pipelineConsumers({ outDir, clock })
    const runners = bus.run(consumers, fast)
    const files = [
      ...(await readdir(join(packageRoot(), 'fixtures', 'inbox'))).sort().map((f) => `inbox/${f}`),
      ...(await readdir(join(packageRoot(), 'fixtures', 'faulty'))).sort().map((f) => `faulty/${f}`),
    ]
    await publishFiles(bus, files)
    await waitFor(async () => (await bus.redis.xlen(bus.keys.stream(EVENT.received))) === files.length && drained(bus, consumers), { what: 'pipeline drained' })
    await runners.stop()
    for (const name of [STAGE.navLatest, STAGE.fileJourney]) {
      const live = await stateOf(bus, name)
      expect(Object.keys(live).length).toBeGreaterThan(0)
      const projection = consumers.find((c) => c.name === name) as ConsumerDefinition
      const summary = await replayConsumer(bus, { consumer: projection, rebuild: true, batchSize: 7 })
      expect(summary.rebuild).toBe(true)
      expect(summary.droppedStateKeys).toBe(Object.keys(live).length)
      expect(summary.failed).toBe(0)
      expect(await stateOf(bus, name)).toEqual(live)
    }
  })

  it('an interrupted rebuild, run again, drops nothing twice and ends equal to live', async () => {
    const bus = await testBus({ contracts: loadContracts(defaultContractsDir()) })
    const outDir = await tempDir('out')
    await mkdir(outDir, { recursive: true })
    const consumers = pipelineConsumers({ outDir, clock })
    const runners = bus.run(consumers, fast)
    const files = (await readdir(join(packageRoot(), 'fixtures', 'inbox'))).sort().map((f) => `inbox/${f}`)
    await publishFiles(bus, files)
    await waitFor(async () => (await bus.redis.xlen(bus.keys.stream(EVENT.received))) === files.length && drained(bus, consumers), { what: 'pipeline drained' })
    await runners.stop()
    const journey = consumers.find((c) => c.name === STAGE.fileJourney) as ConsumerDefinition
    const live = await stateOf(bus, STAGE.fileJourney)
    let seen = 0
    await expect(
      replayConsumer(bus, {
        consumer: journey,
        rebuild: true,
        batchSize: 5,
        beforeCommit: (events) => {
          seen += events.length
          if (seen > 20) throw new Error('interrupted')
        },
      }),
    ).rejects.toThrow('interrupted')
    const again = await replayConsumer(bus, { consumer: journey, rebuild: true, batchSize: 5 })
    expect(again).toMatchObject({ resumed: true, droppedStateKeys: 0 })
    expect(again.alreadyApplied).toBeGreaterThan(0)
    expect(await stateOf(bus, STAGE.fileJourney)).toEqual(live)
  })
})
