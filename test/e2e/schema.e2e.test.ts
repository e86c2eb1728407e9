import { execFile, execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bareEnv, runCli, type CliRun as Run } from '../support/cli.js'

// The built CLI as a user runs it (`npm test` builds first).
const SHIPPED = resolve('contracts')
const RECEIVED = 'pipeline.file.received'
let work: string


async function pipeline(args: string[], cwd = work): Promise<Run> {
  return runCli(args, { cwd, env: bareEnv(work) })
}

/** Renames a required field of a contract in place, as a careless edit would. */
function renameField(file: string, from: string, to: string): void {
  const schema = JSON.parse(readFileSync(file, 'utf8'))
  schema.properties[to] = schema.properties[from]
  delete schema.properties[from]
  schema.required = schema.required.map((name: string) => (name === from ? to : name))
  writeFileSync(file, JSON.stringify(schema, null, 2))
}

beforeAll(() => {
  if (!existsSync(resolve('dist/commands/schema/check.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does).')
  work = mkdtempSync(join(tmpdir(), 'eventspine-schema-e2e-'))
})
afterAll(() => {
  rmSync(work, { recursive: true, force: true })
})

describe('pipeline schema', () => {
  it('check passes on this project\'s own contracts against HEAD (the CI gate)', async () => {
    const run = await pipeline(['schema', 'check'], resolve('.'))
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.stdout).toContain(`${RECEIVED} v1: unchanged`)
    expect(run.stdout).toContain('OK: no breaking edit')
  })

  it('check is red for a renamed field, with type, version, path and reason', async () => {
    const edited = join(work, 'renamed')
    cpSync(SHIPPED, edited, { recursive: true })
    renameField(join(edited, RECEIVED, 'v1.schema.json'), 'fileName', 'name')
    const run = await pipeline(['schema', 'check', '--contracts', edited, '--against', SHIPPED])
    expect(run.code).toBe(1)
    expect(run.stdout).toContain(`${RECEIVED} v1 /fileName: required property removed`)
    expect(run.stdout).toContain('renamed to "name"?')
    expect(run.stdout).toContain(`${RECEIVED} v1 /name: required property added`)
    expect(run.stdout).toContain('publish the change as v2 with an upcaster from v1')

    const json = await pipeline(['schema', 'check', '--contracts', edited, '--against', SHIPPED, '--json'])
    expect(json.code).toBe(1)
    const report = JSON.parse(json.stdout) as { ok: boolean; problems: Array<{ type: string; version: number; path: string }> }
    expect(report.ok).toBe(false)
    expect(report.problems).toContainEqual(expect.objectContaining({ type: RECEIVED, version: 1, path: '/fileName' }))
  })

  it('check reads the baseline from a git ref without touching the working tree', async () => {
    const repo = join(work, 'repo')
    cpSync(resolve('test/fixtures-schema/orders'), join(repo, 'contracts'), { recursive: true })
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: repo, stdio: 'pipe' })
    git('init', '-q')
    git('add', 'contracts')
    git('commit', '-q', '-m', 'contracts v1')
    renameField(join(repo, 'contracts/test.order.placed/v1.schema.json'), 'customerId', 'clientId')
    const red = await pipeline(['schema', 'check', '--contracts', 'contracts'], repo)
    expect(red.code).toBe(1)
    expect(red.stdout).toContain('Contracts compared with git HEAD')
    expect(red.stdout).toContain('test.order.placed v1 /customerId: required property removed')

    const missing = await pipeline(['schema', 'check', '--contracts', 'contracts', '--against', 'no-such-branch'], repo)
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('"no-such-branch" is neither a folder nor a commit')
  })

  it('list --json gives every type with its meaning, producers and consumers from the code', async () => {
    const run = await pipeline(['schema', 'list', '--json'])
    expect(run.code).toBe(0)
    const catalog = JSON.parse(run.stdout) as { types: Array<{ type: string; description: string; producers: string[]; consumers: string[] }> }
    // The ten pipeline types and reference.changed (relayed from a reference service's outbox).
    expect(catalog.types).toHaveLength(11)
    const received = catalog.types.find((t) => t.type === RECEIVED)
    expect(received).toMatchObject({ producers: ['intake'], consumers: ['file-journey', 'ingest'] })
    expect(received?.description).toMatch(/A file arrived/)
  })

  it('show prints the meaning and the schema; an unknown version names the known ones', async () => {
    const run = await pipeline(['schema', 'show', 'pipeline.file.mapped'])
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('pipeline.file.mapped v1 (latest')
    expect(run.stdout).toContain("A file's rows were translated")
    expect(run.stdout).toContain('"unmappedColumns"')
    const unknown = await pipeline(['schema', 'show', 'pipeline.file.mapped', '--version', '7'])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain('Known versions of pipeline.file.mapped: 1')
  })

  it('export --asyncapi --out writes an AsyncAPI 3.0.0 document of every stream', async () => {
    const out = join(work, 'docs', 'asyncapi.json')
    const run = await pipeline(['schema', 'export', '--asyncapi', '--out', out])
    expect(run.code).toBe(0)
    expect(run.stdout).toContain(`to ${out}`)
    const document = JSON.parse(readFileSync(out, 'utf8')) as { asyncapi: string; channels: Record<string, { address: string }> }
    expect(document.asyncapi).toBe('3.0.0')
    expect(document.channels[RECEIVED]?.address).toBe(`{namespace}:stream:${RECEIVED}`)
  })
})
