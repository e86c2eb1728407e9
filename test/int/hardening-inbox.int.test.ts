import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import iconv from 'iconv-lite'
import { afterEach, describe, expect, it } from 'vitest'
import { readCorrelation } from '../../src/bus/correlation.js'
import { startPipeline, type Intake, type PipelineHandle } from '../../src/pipeline/host/index.js'
import { projectionState } from '../../src/pipeline/host/http.js'
import { readFileJourney, type FileJourney } from '../../src/pipeline/projections.js'
import { STAGE } from '../../src/pipeline/stages/names.js'
import { EVENT, type RejectedPayload } from '../../src/pipeline/types.js'
import { waitFor } from '../support/bus.js'
import { testNamespace, testRedisUrl } from '../support/namespace.js'
import { expected, fixturesDir } from './hardening-support.js'

// Garbage dropped into the inbox of a running pipeline: each is refused with a rule and a
// message (by the inbox before reading, or by ingest), and the next good file is still delivered.
const GOOD = readFileSync(join(fixturesDir, 'inbox', 'northwind-nav-2026-11-24.csv'))
const GOOD_RECORDS = 8
const TERMINAL = new Set(['delivered', 'rejected', 'duplicate'])
const WAIT = { timeoutMs: 90_000 }
const dirs: string[] = []
const isRoot = process.getuid?.() === 0

afterEach(() => {
  for (const d of dirs.splice(0)) {
    try {
      chmodSync(d, 0o755)
    } catch {
      // already gone
    }
    rmSync(d, { recursive: true, force: true })
  }
})

interface Host {
  readonly pipeline: PipelineHandle
  readonly intakes: Intake[]
  readonly project: string
  /** The intake of `name` (ok or refused), waiting for it. */
  intake(name: string): Promise<Intake>
  /** The journey of a file taken in, once finished. */
  outcome(name: string): Promise<{ journey: FileJourney; rejected?: RejectedPayload }>
  /** Drops a good file no one has seen (unique bytes) and waits for its delivery. */
  nextGoodIsDelivered(): Promise<void>
}

async function host(stabilityMs = 300): Promise<Host> {
  const project = mkdtempSync(join(tmpdir(), 'eventspine-hardening-'))
  dirs.push(project)
  const intakes: Intake[] = []
  const pipeline = await startPipeline({
    url: testRedisUrl(),
    namespace: testNamespace('harden'),
    projectDir: project,
    clock: () => new Date(expected.clock),
    receivedAt: () => new Date(expected.receivedAt),
    stabilityMs,
    onIntake: (i) => void intakes.push(i),
    onWarn: () => {},
  })
  let good = 0
  const intake = (name: string) => waitFor(() => intakes.find((i) => i.fileName === name), { ...WAIT, what: `${name} to be taken in or refused` })
  const outcome = async (name: string) => {
    const taken = await intake(name)
    if (!taken.ok) throw new Error(`${name} was refused by the inbox: ${taken.reason}`)
    const journey = await waitFor(
      async () => {
        const j = await readFileJourney(projectionState(pipeline.bus, STAGE.fileJourney), taken.correlationId)
        return j !== null && TERMINAL.has(j.status) ? j : null
      },
      { ...WAIT, what: `${name} to finish` },
    )
    const item = (await readCorrelation(pipeline.bus, taken.correlationId)).find((i) => i.kind === 'event' && i.type === EVENT.rejected)
    return item?.kind === 'event' && item.event !== null ? { journey, rejected: item.event.payload as RejectedPayload } : { journey }
  }
  return {
    pipeline,
    intakes,
    project,
    intake,
    outcome,
    async nextGoodIsDelivered() {
      good++
      const name = `good-${good}.csv`
      // Trailing blank lines are skipped by the parser but give the file its own content hash.
      writeFileSync(join(pipeline.inboxDir, name), Buffer.concat([GOOD, Buffer.from('\n'.repeat(good))]))
      const { journey } = await outcome(name)
      expect(journey.status, `${name} after the bad input: ${JSON.stringify(journey.reasons)}`).toBe('delivered')
    },
  }
}

async function withHost(body: (h: Host) => Promise<void>, stabilityMs?: number): Promise<void> {
  const h = await host(stabilityMs)
  try {
    await body(h)
  } finally {
    await h.pipeline.stop()
  }
}

/** A refusal by the inbox: moved to .failed/ beside a reason naming the rule. */
async function expectRefused(h: Host, name: string, rule: string, message: RegExp): Promise<void> {
  const taken = await h.intake(name)
  expect(taken.ok, `${name} should be refused`).toBe(false)
  if (taken.ok) return
  expect(taken.reason).toMatch(new RegExp(`^${rule}: `))
  expect(taken.reason).toMatch(message)
  expect(taken.movedTo).toBe(join(h.pipeline.inboxDir, '.failed', name))
  expect(readFileSync(`${taken.movedTo}.reason.txt`, 'utf8')).toBe(`${taken.reason}\n`)
}

/** A rejection by ingest: published, then `pipeline.file.rejected` with the rule in the journey. */
async function expectRejected(h: Host, name: string, rule: string, message: RegExp): Promise<void> {
  const { journey, rejected } = await h.outcome(name)
  expect(journey.status, JSON.stringify(journey)).toBe('rejected')
  expect(rejected?.stage).toBe(STAGE.ingest)
  expect(journey.reasons?.map((r) => r.rule)).toEqual([rule])
  expect(journey.reasons?.[0]?.message).toMatch(message)
}

describe('the inbox: what really gets dropped in', () => {
  it('a directory is refused as not-a-file, and the pipeline carries on', async () => {
    await withHost(async (h) => {
      mkdirSync(join(h.pipeline.inboxDir, 'batch.csv'))
      writeFileSync(join(h.pipeline.inboxDir, 'batch.csv', 'inside.csv'), GOOD)
      await expectRefused(h, 'batch.csv', 'not-a-file', /is a directory/)
      await h.nextGoodIsDelivered()
      expect(h.intakes.map((i) => i.fileName)).not.toContain('inside.csv')
    })
  })

  it('a symlink to a file is followed: the target is read and left in place, the link moves to .done/', async () => {
    await withHost(async (h) => {
      const target = join(h.project, 'exports', 'nav.csv')
      mkdirSync(join(h.project, 'exports'))
      writeFileSync(target, Buffer.concat([GOOD, Buffer.from('\n\n\n\n\n\n\n\n\n\n')]))
      symlinkSync(target, join(h.pipeline.inboxDir, 'linked.csv'))
      const { journey } = await h.outcome('linked.csv')
      expect(journey.status).toBe('delivered')
      expect(readFileSync(target)).toHaveLength(GOOD.length + 10)
      expect(lstatSync(join(h.pipeline.inboxDir, '.done', 'linked.csv')).isSymbolicLink()).toBe(true)
      await h.nextGoodIsDelivered()
    })
  })

  it('a symlink to nothing is refused as broken-symlink (chokidar never reports one), and the pipeline keeps going', async () => {
    await withHost(async (h) => {
      symlinkSync(join(h.project, 'exports', 'gone.csv'), join(h.pipeline.inboxDir, 'dangling.csv'))
      await expectRefused(h, 'dangling.csv', 'broken-symlink', /symbolic link to .*gone\.csv, which does not exist/)
      expect(lstatSync(join(h.pipeline.inboxDir, '.failed', 'dangling.csv')).isSymbolicLink()).toBe(true)
      await h.nextGoodIsDelivered()
    })
  })

  // chmod 000 stops a user but not root (CI runs as root): root reads and delivers the file, a
  // user gets unreadable-file. Either way it is never silently left behind. (The refusal as an
  // unprivileged process, whoever runs the tests, is in hardening-unreadable.)
  it('a mode-000 file is never silently left behind: refused as unreadable-file, or read and delivered by root', async () => {
    await withHost(async (h) => {
      writeFileSync(join(h.pipeline.inboxDir, 'locked.csv'), Buffer.concat([GOOD, Buffer.from('\n'.repeat(30))]), { mode: 0o000 })
      if (isRoot) {
        const { journey } = await h.outcome('locked.csv')
        expect(journey.status).toBe('delivered')
      } else {
        await expectRefused(h, 'locked.csv', 'unreadable-file', /permission denied/)
      }
      await h.nextGoodIsDelivered()
    })
  })

  it('a 50 MB file is refused before it is read, as file-too-large', async () => {
    await withHost(async (h) => {
      // Written under .tmp and renamed: a stall mid-write on a loaded machine must not let a part be read.
      const handle = await open(join(h.pipeline.inboxDir, 'huge.csv.tmp'), 'w')
      const chunk = Buffer.alloc(1024 * 1024, 'a')
      for (let i = 0; i < 50; i++) await handle.write(chunk)
      await handle.close()
      renameSync(join(h.pipeline.inboxDir, 'huge.csv.tmp'), join(h.pipeline.inboxDir, 'huge.csv'))
      await expectRefused(h, 'huge.csv', 'file-too-large', /file is 52428800 bytes, over the 16777216-byte limit/)
      await h.nextGoodIsDelivered()
    })
  })

  it('a file too large to travel in an event is refused as event-too-large', async () => {
    await withHost(async (h) => {
      writeFileSync(join(h.pipeline.inboxDir, 'wide.csv'), `isin,nav\n${'x'.repeat(3_500_000)}\n`)
      await expectRefused(h, 'wide.csv', 'event-too-large', /over the 4194304-byte event cap.*split the file/)
      await h.nextGoodIsDelivered()
    })
  })

  it('empty, binary, NUL-bearing, 1 MB-row and 100,000-deep JSON files are each rejected by ingest with their rule', async () => {
    await withHost(async (h) => {
      const inbox = h.pipeline.inboxDir
      const at = GOOD.indexOf(10) + 5
      writeFileSync(join(inbox, 'empty.csv'), '')
      await expectRejected(h, 'empty.csv', 'empty-file', /file is empty \(0 bytes\)/)
      writeFileSync(join(inbox, 'binary.csv'), readFileSync(join(fixturesDir, 'faulty', 'binary.csv')))
      await expectRejected(h, 'binary.csv', 'binary-file', /a binary file, not CSV or JSON/)
      writeFileSync(join(inbox, 'nul.csv'), Buffer.concat([GOOD.subarray(0, at), Buffer.from([0, 0]), GOOD.subarray(at)]))
      await expectRejected(h, 'nul.csv', 'nul-bytes', /2 NUL bytes \(the first at byte \d+, line 2\)/)
      writeFileSync(join(inbox, 'row.csv'), `isin,nav\n${'x'.repeat(1024 * 1024)},1\n`)
      await expectRejected(h, 'row.csv', 'row-too-large', /65536-character row limit \(MAX_ROW_BYTES\)/)
      writeFileSync(join(inbox, 'deep.json'), `{"rows":[{"isin":${'['.repeat(100_000)}${']'.repeat(100_000)}}]}`)
      await expectRejected(h, 'deep.json', 'json-too-deep', /more than 64 levels deep \(MAX_JSON_DEPTH\)/)
      await h.nextGoodIsDelivered()
    })
  })

  it('a billion-laughs XML, an XXE one and a 200,000-deep XML are each rejected by ingest with their rule, and the pipeline carries on', async () => {
    await withHost(async (h) => {
      const inbox = h.pipeline.inboxDir
      const lol = ['<?xml version="1.0"?>', '<!DOCTYPE lolz [', '<!ENTITY lol "lol">']
      for (let i = 1; i <= 9; i++) lol.push(`<!ENTITY lol${i} "${`&lol${i === 1 ? '' : i - 1};`.repeat(10)}">`)
      lol.push(']>', '<FundsXML4>&lol9;</FundsXML4>')
      writeFileSync(join(inbox, 'laughs.xml'), lol.join('\n'))
      await expectRejected(h, 'laughs.xml', 'xml-doctype', /entities are never expanded \(billion laughs, XXE\)/)
      writeFileSync(join(inbox, 'xxe.xml'), '<?xml version="1.0"?><!DOCTYPE f [<!ENTITY x SYSTEM "file:///etc/passwd">]><FundsXML4>&x;</FundsXML4>')
      await expectRejected(h, 'xxe.xml', 'xml-doctype', /DOCTYPE or ENTITY declaration is refused/)
      writeFileSync(join(inbox, 'deep.xml'), `<FundsXML4>${'<a>'.repeat(200_000)}${'</a>'.repeat(200_000)}</FundsXML4>`)
      await expectRejected(h, 'deep.xml', 'xml-too-deep', /more than 64 levels deep \(MAX_XML_DEPTH\)/)
      await h.nextGoodIsDelivered()
    })
  })

  it('UTF-16 without a byte-order mark and Latin-1 are decoded and delivered', async () => {
    await withHost(async (h) => {
      writeFileSync(join(h.pipeline.inboxDir, 'utf16.csv'), iconv.encode(GOOD.toString('utf8'), 'utf16le'))
      const utf16 = await h.outcome('utf16.csv')
      expect(utf16.journey.status, JSON.stringify(utf16.journey.reasons)).toBe('delivered')
      writeFileSync(join(h.pipeline.inboxDir, 'latin1.csv'), readFileSync(join(fixturesDir, 'faulty', 'lumen-reference-latin1.csv')))
      const latin1 = await h.outcome('latin1.csv')
      expect(latin1.journey.status, JSON.stringify(latin1.journey.reasons)).toBe('delivered')
      await h.nextGoodIsDelivered()
    })
  })

  it('a file appended in chunks is read once, complete; a .tmp file is read only after its rename', async () => {
    // Chunks come every 100 ms; the size must hold still for 1.5 s before the file is read.
    await withHost(async (h) => {
      const inbox = h.pipeline.inboxDir
      const handle = await open(join(inbox, 'slow.csv'), 'w')
      const lines = GOOD.toString('utf8').split(/(?<=\n)/)
      for (const line of lines) {
        await handle.write(line)
        await sleep(100)
      }
      await handle.close()
      const slow = await h.outcome('slow.csv')
      expect(slow.journey.status, JSON.stringify(slow.journey.reasons)).toBe('delivered')
      expect(slow.journey.kind).toBe('nav')

      const tmp = join(inbox, 'upload.csv.tmp')
      writeFileSync(tmp, Buffer.concat([GOOD.subarray(0, 100)]))
      await sleep(2_000)
      writeFileSync(tmp, Buffer.concat([GOOD, Buffer.from('\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n')]))
      expect(h.intakes.map((i) => i.fileName)).toEqual(['slow.csv'])
      renameSync(tmp, join(inbox, 'upload.csv'))
      const upload = await h.outcome('upload.csv')
      expect(upload.journey.status).toBe('delivered')
      expect(existsSync(tmp)).toBe(false)
      expect(h.intakes.filter((i) => i.fileName === 'slow.csv')).toHaveLength(1)
      // The whole file was read: every record arrived.
      const taken = await h.intake('slow.csv')
      const item = taken.ok ? (await readCorrelation(h.pipeline.bus, taken.correlationId)).find((i) => i.kind === 'event' && i.type === EVENT.delivered) : undefined
      expect(item?.kind === 'event' ? (item.event?.payload as { recordCount?: number } | undefined)?.recordCount : undefined).toBe(GOOD_RECORDS)
    }, 1_500)
  })
})
