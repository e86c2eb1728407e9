import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defaultContractsDir, loadContracts } from '../../src/events/index.js'
import { EVENT, receivedEvent } from '../../src/pipeline/index.js'
import { streamEntries, testBus, waitFor } from '../support/bus.js'
import { testNamespace, testRedisUrl } from '../support/namespace.js'
import { BIN, bareEnv, runCli } from '../support/cli.js'

// `pipeline produce` as a user runs it: a captured `tail --ndjson` replayed into another namespace.
let project: string

function pipeline(args: string[], input?: string) {
  return runCli(args, { cwd: project, env: bareEnv(project), ...(input === undefined ? {} : { input }) })
}

/** `pipeline tail --ndjson` until it printed `count` lines, then Ctrl-C. */
async function captureTail(args: string[], count: number): Promise<string> {
  const child = spawn(process.execPath, [BIN, 'tail', '--ndjson', ...args], { cwd: project, env: bareEnv(project) })
  let stdout = ''
  child.stdout.on('data', (chunk: Buffer) => void (stdout += chunk.toString()))
  const exited = new Promise<void>((done) => child.on('exit', () => done()))
  await waitFor(() => stdout.split('\n').filter(Boolean).length >= count, { what: `${count} lines from tail` })
  child.kill('SIGINT')
  await exited
  return stdout
}

beforeAll(() => {
  if (!existsSync(resolve('dist/commands/produce.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does).')
  project = mkdtempSync(join(tmpdir(), 'eventspine-produce-'))
})
afterAll(() => rmSync(project, { recursive: true, force: true }))

// Each CLI start costs seconds on a loaded machine; the error story runs ten of them.
describe('pipeline produce', { timeout: 400_000 }, () => {
  it('tail --ndjson replayed into another namespace gives the same events; again, it appends nothing', async () => {
    const source = await testBus({ contracts: loadContracts(defaultContractsDir()) })
    const target = await testBus({ contracts: loadContracts(defaultContractsDir()) })
    const nav = readFileSync('fixtures/inbox/northwind-nav-2026-11-24.csv')
    const faulty = readFileSync('fixtures/faulty/northwind-nav-bad-isin.csv')
    await source.publish([receivedEvent('nav.csv', nav), receivedEvent('bad-isin.csv', faulty)])
    const captured = await captureTail(['--since', '1h', '--redis-url', testRedisUrl(), '--namespace', source.namespace], 2)

    const into = ['--redis-url', testRedisUrl(), '--namespace', target.namespace]
    const first = await pipeline(['produce', ...into], captured)
    expect(first.code).toBe(0)
    expect(first.stdout).toContain('2 appended, 0 already published.')
    const strip = (entries: Record<string, string>[]) => entries.map(({ id, type, version, source: s, occurredAt, correlationId, causationId, key, payload }) => ({ id, type, version, s, occurredAt, correlationId, causationId, key, payload }))
    expect(strip(await streamEntries(target, EVENT.received))).toEqual(strip(await streamEntries(source, EVENT.received)))

    const again = await pipeline(['produce', '--json', ...into], captured)
    expect(again.code).toBe(0)
    expect(JSON.parse(again.stdout)).toMatchObject({ appended: 0, duplicates: 2 })
    expect(await target.redis.xlen(target.keys.stream(EVENT.received))).toBe(2)
  })

  it('one event from flags; bad flags exit 2; a bad line, an unknown type or a broken contract exit 1 and send nothing', async () => {
    const namespace = testNamespace('produce')
    const into = ['--redis-url', testRedisUrl(), '--namespace', namespace]
    const bus = await testBus({ namespace })
    const payload = { fileName: 'x.csv', sizeBytes: 1, contentSha256: 'a'.repeat(64), contentBase64: 'eA==', receivedAt: '2026-11-25T07:30:00.000Z' }
    const id = '0193a1b2-7c4d-7e5f-8a9b-0c1d2e3f4a5b'
    const one = await pipeline(['produce', '--type', EVENT.received, '--key', 'x.csv', '--payload', JSON.stringify(payload), '--id', id, ...into])
    expect(one.stderr).toBe('')
    expect(one.code).toBe(0)
    expect(one.stdout).toMatch(new RegExp(`^appended  ${id}  ${EVENT.received.replaceAll('.', '\\.')}  key x\\.csv  entry \\d+-\\d+\\n1 appended, 0 already published\\.\\n$`))
    const twice = await pipeline(['produce', '--type', EVENT.received, '--key', 'x.csv', '--payload', JSON.stringify(payload), '--id', id, ...into])
    expect(twice.stdout).toContain('0 appended, 1 already published.')

    const badJson = await pipeline(['produce', '--type', EVENT.received, '--key', 'k', '--payload', '{nope', ...into])
    expect(badJson.code).toBe(2)
    expect(badJson.stderr).toContain('--payload is not JSON')
    const keyAlone = await pipeline(['produce', '--key', 'k', ...into], '')
    expect(keyAlone.code).toBe(2)
    expect(keyAlone.stderr).toContain('--key needs --type')
    const badId = await pipeline(['produce', '--type', EVENT.received, '--key', 'k', '--payload', '{}', '--id', 'nope', ...into])
    expect(badId.code).toBe(2)
    expect(badId.stderr).toContain('--id "nope" is not a UUID')

    const good = JSON.stringify({ type: EVENT.received, key: 'y.csv', payload: { ...payload, fileName: 'y.csv' } })
    const line2 = await pipeline(['produce', ...into], `${good}\n{"type": \n`)
    expect(line2.code).toBe(1)
    expect(line2.stderr).toMatch(/Error: line 2: not JSON/)
    const unknown = await pipeline(['produce', ...into], `${good}\n\n${JSON.stringify({ type: 'pipeline.file.recieved', key: 'k', payload: {} })}\n`)
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain('line 3: no contract for event type "pipeline.file.recieved"')
    const broken = await pipeline(['produce', '--json', ...into], JSON.stringify({ type: EVENT.received, key: 'k', payload: { ...payload, sizeBytes: 'one' } }))
    expect(broken.code).toBe(1)
    expect(JSON.parse(broken.stdout)).toMatchObject({ error: { code: 'E_CONTRACT', message: expect.stringContaining('line 1: pipeline.file.received@1 payload breaks its contract: /sizeBytes') } })
    expect(await bus.redis.xlen(bus.keys.stream(EVENT.received))).toBe(1)
  })
})
