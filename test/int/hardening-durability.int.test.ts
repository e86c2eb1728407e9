import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import { createBus, type Bus, type RunnerOptions } from '../../src/bus/index.js'
import { defaultContractsDir, loadContracts } from '../../src/events/index.js'
import { pipelineConsumers } from '../../src/pipeline/index.js'
import { receivedEvent } from '../../src/pipeline/intake.js'
import { STAGE } from '../../src/pipeline/stages/names.js'
import { EVENT } from '../../src/pipeline/types.js'
import { waitFor } from '../support/bus.js'
import { startTestRedis, type TestRedis } from '../support/redis-server.js'
import {
  allEvents,
  expected,
  filesUnder,
  fixturesDir,
  halfCommits,
  ONE_TO_ONE,
  prefixProblems,
  snapshot,
  terminals,
  TERMINAL,
  type ExpectedFile,
  type Snapshot,
} from './hardening-support.js'

// Small batches and short timeouts: many commits in flight when Redis dies, quick takeover after.
const RUN: RunnerOptions = { batchSize: 4, blockMs: 200, visibilityTimeoutMs: 2_000, watchdogGraceMs: 1_500, retry: { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 400 } }
const contracts = loadContracts(defaultContractsDir())
const cleanup: (() => Promise<void> | void)[] = []

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step()
})

function tempDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `eventspine-${label}-`))
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function openBus(url: string, namespace: string, warnings: string[]): Promise<Bus> {
  const bus = await createBus({ url, namespace, contracts, warn: (m) => void warnings.push(m) })
  cleanup.push(() => bus.close().catch(() => {}))
  return bus
}

/** A client that survives the restart (same port) and waits for Redis rather than failing. */
function probe(url: string): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: null, retryStrategy: () => 50 })
  redis.on('error', () => {})
  cleanup.push(() => void redis.disconnect())
  return redis
}

// `--durability strict` flushes delivered files too (syncOutput); the default does not.
const consumersFor = (outDir: string, syncOutput = false) => pipelineConsumers({ outDir, syncOutput, clock: () => new Date(expected.clock) })
const names = consumersFor('/unused').map((c) => c.name)
const stages = consumersFor('/unused').filter((c) => ONE_TO_ONE.includes(c.name))

async function publishFile(bus: Bus, file: ExpectedFile): Promise<{ id: string; correlationId: string }> {
  const content = readFileSync(join(fixturesDir, file.path))
  const [published] = await bus.publish(receivedEvent(basename(file.path), content, { receivedAt: new Date(expected.receivedAt) }))
  if (published === undefined) throw new Error(`nothing published for ${file.path}`)
  return { id: published.id, correlationId: published.correlationId }
}

/** Waits until each correlation id has a terminal event, then checks outcomes, outputs and bookkeeping. */
async function expectOutcomes(redis: Redis, bus: Bus, outDir: string, files: Map<string, ExpectedFile>, orphansAllowed: ReadonlySet<string> = new Set()): Promise<Snapshot> {
  let last: Snapshot | undefined
  await waitFor(
    async () => {
      last = await snapshot(redis, bus.keys, names)
      const done = terminals(last)
      return [...files.keys()].every((cid) => done.has(cid))
    },
    { timeoutMs: 120_000, what: 'every fixture to reach an outcome' },
  ).catch((error: unknown) => {
    const done = last ? terminals(last) : new Map()
    const missing = [...files].filter(([cid]) => !done.has(cid)).map(([cid, f]) => `${f.path} (${cid})`)
    throw new Error(`${String(error)}: still missing ${missing.join(', ')}`)
  })
  // Deliver writes its file before its commit: wait for the last stages to settle, then look.
  const final = await waitFor(
    async () => {
      const s = await snapshot(redis, bus.keys, names)
      return halfCommits(s, stages).length === 0 ? s : null
    },
    { what: 'stages to settle' },
  )
  const done = terminals(final)
  for (const [cid, file] of files) {
    expect((done.get(cid) ?? []).map((e) => e.type), `${file.path} (${cid})`).toEqual([TERMINAL[file.outcome]])
  }
  // Exactly once: no event id twice, no stage output twice per file.
  const events = allEvents(final)
  expect(new Set(events.map((e) => e.id)).size).toBe(events.length)
  const perFile = new Map<string, number>()
  for (const e of events) perFile.set(`${e.correlationId} ${e.type}`, (perFile.get(`${e.correlationId} ${e.type}`) ?? 0) + 1)
  expect([...perFile].filter(([, n]) => n > 1)).toEqual([])
  expect(prefixProblems(final)).toEqual([])
  expect(final.deadLetters).toBe(0)
  // One output file per delivered input, named by its correlation id; no temp files left.
  const outputs = filesUnder(outDir).map((f) => basename(f))
  const deliveredIds = [...files].filter(([, f]) => f.outcome === 'delivered').map(([cid]) => `${cid}.json`)
  expect(outputs.filter((o) => !orphansAllowed.has(o)).sort()).toEqual(deliveredIds.sort())
  return final
}

function containsAll(before: Snapshot, after: Snapshot): string[] {
  const lost: string[] = []
  const afterIds = new Set(allEvents(after).map((e) => `${e.entryId} ${e.id}`))
  for (const e of allEvents(before)) if (!afterIds.has(`${e.entryId} ${e.id}`)) lost.push(`${e.type} ${e.id} (entry ${e.entryId})`)
  for (const [consumer, ids] of before.inbox) {
    const kept = after.inbox.get(consumer) ?? new Set<string>()
    for (const id of ids) if (!kept.has(id)) lost.push(`${consumer} inbox ${id}`)
  }
  return lost
}

describe('durability: kill -9 of redis-server mid-run', () => {
  it('strict (appendfsync always): nothing acknowledged is lost, every fixture reaches its outcome exactly once', async () => {
    let server = await startTestRedis({ appendfsync: 'always' })
    cleanup.push(() => server.stop())
    const outDir = tempDir('strict-out')
    const warnings: string[] = []
    const bus = await openBus(server.url, 'strict', warnings)
    const redis = probe(server.url)
    let before: Snapshot | undefined
    let crash: Promise<void> | undefined
    // The crash comes from inside the pipeline: as enrich is about to commit its first wave,
    // everything acknowledged so far is read in one MULTI (a reply from an `always` server means
    // fsynced), then redis-server is killed -9 and restarted on the same data dir.
    const runners = bus.run(consumersFor(outDir, true), {
      ...RUN,
      async beforeCommit(runner) {
        if (runner.consumer.name !== STAGE.enrich || crash !== undefined) return
        crash = (async () => {
          before = await snapshot(redis, bus.keys, names)
          server = await server.restart({ signal: 'SIGKILL' })
        })()
        await crash
      },
    })
    cleanup.push(() => runners.stop())
    const files = new Map<string, ExpectedFile>()
    for (const file of expected.files) files.set((await publishFile(bus, file)).correlationId, file)
    await waitFor(() => crash !== undefined, { what: 'the crash to be triggered' })
    await crash
    const after = await snapshot(redis, bus.keys, names)
    expect(before === undefined ? ['no snapshot'] : containsAll(before, after)).toEqual([])
    expect(allEvents(before as Snapshot).filter((e) => e.type !== EVENT.received).length).toBeGreaterThan(0) // the kill came mid-run
    expect(terminals(before as Snapshot).size).toBeLessThan(expected.files.length)
    const final = await expectOutcomes(redis, bus, outDir, files).catch((error: unknown) => {
      throw new Error(`${String(error)}; warnings: ${warnings.slice(-10).join(' | ')}`)
    })
    expect(containsAll(after, final)).toEqual([])
  }, 240_000)

  /** The AOF's last (incremental) file, where everysec appends. */
  function incrAof(dir: string): string {
    const folder = join(dir, 'appendonlydir')
    const name = readdirSync(folder).find((n) => n.endsWith('.incr.aof'))
    if (name === undefined) throw new Error(`no incremental AOF in ${folder}`)
    return join(folder, name)
  }

  it.each([
    { lose: false, what: 'kill -9 (written AOF kept by the OS)' },
    { lose: true, what: 'power loss (AOF cut back to an earlier point, mid-command)' },
  ])('everysec, $what: no file half-processed; re-publishing lost arrivals brings every file to its outcome', async ({ lose }) => {
    const server = await startTestRedis({ appendfsync: 'everysec' })
    const dir = server.dir
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }))
    let restarted: TestRedis | undefined
    cleanup.push(() => (restarted ?? server).stop())
    const outDir = tempDir('everysec-out')
    const warnings: string[] = []
    const first = await openBus(server.url, 'everysec', warnings)
    const runners = bus1Run(first, outDir)
    const published: { file: ExpectedFile; id: string; correlationId: string }[] = []
    let cut = 0
    const half = Math.floor(expected.files.length / 2)
    for (const [i, file] of expected.files.entries()) {
      published.push({ file, ...(await publishFile(first, file)) })
      if (i === half) cut = statSync(incrAof(dir)).size + 37 // a few bytes into whatever came next
    }
    await waitFor(async () => Number(await first.redis.hget(first.keys.stats(STAGE.deliver), 'handled')) >= 1, { what: 'a first delivery' })
    // The whole machine goes: every stage dies on the spot (no commit, no lease release), then Redis.
    for (const r of runners.runners) r.kill()
    // Its connections go with it: nothing it had sent is re-sent to the restarted server.
    await first.close()
    await new Promise<void>((done) => {
      server.process.once('exit', () => done())
      server.process.kill('SIGKILL')
    })
    if (lose) truncateSync(incrAof(dir), Math.min(cut, statSync(incrAof(dir)).size))
    restarted = await startTestRedis({ port: server.port, dir, appendfsync: 'everysec' })
    const redis = probe(restarted.url)
    const bus = await openBus(restarted.url, 'everysec', warnings)
    const kept = await snapshot(redis, bus.keys, names)
    // What survived is whole steps: every event's cause is there, every commit complete.
    expect(prefixProblems(kept)).toEqual([])
    expect(halfCommits(kept, stages)).toEqual([])
    const survived = new Set((kept.events.get(EVENT.received) ?? []).map((e) => e.id))
    const lost = published.filter((p) => !survived.has(p.id))
    if (lose) expect(lost.length).toBeGreaterThan(0)
    // Outputs of files whose history was cut away stay on disk (deliver writes outside Redis).
    const knownIds = new Set(allEvents(kept).map((e) => `${e.correlationId}.json`))
    const orphans = new Set(filesUnder(outDir).map((f) => basename(f)).filter((n) => !knownIds.has(n)))
    if (!lose) expect([...orphans]).toEqual([])
    const second = bus1Run(bus, outDir)
    cleanup.push(() => second.stop())
    const files = new Map<string, ExpectedFile>()
    for (const p of published) if (survived.has(p.id)) files.set(p.correlationId, p.file)
    for (const p of lost) files.set((await publishFile(bus, p.file)).correlationId, p.file)
    await expectOutcomes(redis, bus, outDir, files, orphans)
  }, 240_000)

  function bus1Run(bus: Bus, outDir: string) {
    return bus.run(consumersFor(outDir), RUN)
  }
})
