import { spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterEach, expect, it } from 'vitest'
import type { Intake } from '../../src/pipeline/host/index.js'
import { packageRoot } from '../../src/pipeline/paths.js'
import { waitFor } from '../support/bus.js'
import { testNamespace, testRedisUrl } from '../support/namespace.js'
import { filesUnder, fixturesDir } from './hardening-support.js'

// chmod 000 does not stop root from reading, and these tests run as root on CI machines. So the
// pipeline runs here in a child process as an unprivileged user (nobody when we are root, else
// ourselves), exactly as a user's `pipeline up` would, and the file dropped in has mode 000.
const NOBODY = 65534
const isRoot = process.getuid?.() === 0
const cleanup: (() => void)[] = []

afterEach(() => {
  for (const step of cleanup.splice(0).reverse()) step()
})

const CHILD = `
import { startPipeline } from ${JSON.stringify(pathToFileURL(join(packageRoot(), 'src', 'pipeline', 'host', 'index.ts')).href)}
const [url, namespace, projectDir] = process.argv.slice(2)
const pipeline = await startPipeline({ url, namespace, projectDir, stabilityMs: 200, onWarn: (w) => console.log(JSON.stringify({ warn: w })), onIntake: (i) => console.log(JSON.stringify(i)) })
console.log(JSON.stringify({ ready: true }))
process.once('SIGTERM', () => void pipeline.stop().then(() => process.exit(0)))
`

function startUnprivileged(project: string): { child: ChildProcess; lines: string[]; errors: string[] } {
  const script = join(project, 'child.mjs')
  writeFileSync(script, CHILD, { mode: 0o644 })
  const loader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href
  const child = spawn(process.execPath, ['--import', loader, script, testRedisUrl(), testNamespace('unreadable'), project], {
    ...(isRoot ? { uid: NOBODY, gid: NOBODY } : {}),
    cwd: project,
    env: { ...process.env, HOME: project },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines: string[] = []
  const errors: string[] = []
  let buffered = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8')
    const parts = buffered.split('\n')
    buffered = parts.pop() ?? ''
    lines.push(...parts.filter((l) => l.startsWith('{')))
  })
  child.stderr?.on('data', (chunk: Buffer) => void errors.push(chunk.toString('utf8')))
  cleanup.push(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  return { child, lines, errors }
}

it('an unreadable file (chmod 000, pipeline run unprivileged) is refused as unreadable-file; the next good file is delivered', async () => {
  const project = mkdtempSync(join(tmpdir(), 'eventspine-unreadable-'))
  chmodSync(project, 0o777)
  cleanup.push(() => rmSync(project, { recursive: true, force: true }))
  const { child, lines, errors } = startUnprivileged(project)
  const intakes = () => lines.map((l) => JSON.parse(l) as Intake | { ready: true } | { warn: string })
  const find = (name: string) => intakes().find((i): i is Intake => 'fileName' in i && i.fileName === name)
  const what = (w: string) => ({ what: `${w} (child stderr: ${errors.join('').slice(-500)})` })
  await waitFor(() => intakes().some((i) => 'ready' in i) || child.exitCode !== null, what('the pipeline to start unprivileged'))
  expect(child.exitCode, errors.join('')).toBeNull()
  const inbox = join(project, '.pipeline', 'inbox')
  writeFileSync(join(inbox, 'locked.csv'), readFileSync(join(fixturesDir, 'inbox', 'northwind-nav-2026-11-24.csv')), { mode: 0o000 })
  const locked = await waitFor(() => find('locked.csv'), { ...what('locked.csv to be refused'), what: `locked.csv to be refused (child said: ${lines.join(' ')})` })
  expect(locked.ok).toBe(false)
  if (!locked.ok) {
    expect(locked.reason).toMatch(/^unreadable-file: cannot read locked\.csv: permission denied \(EACCES\)/)
    expect(locked.movedTo).toBe(join(inbox, '.failed', 'locked.csv'))
    expect(readFileSync(`${locked.movedTo}.reason.txt`, 'utf8')).toBe(`${locked.reason}\n`)
  }
  writeFileSync(join(inbox, 'good.csv'), readFileSync(join(fixturesDir, 'inbox', 'northwind-nav-2026-11-24.csv')), { mode: 0o644 })
  const good = await waitFor(() => find('good.csv'), what('good.csv to be taken in'))
  if (!good.ok) throw new Error(`good.csv refused: ${good.reason}`)
  await waitFor(() => filesUnder(join(project, '.pipeline', 'out')).some((f) => basename(f) === `${good.correlationId}.json`), what('good.csv to be delivered'))
  const exited = new Promise<void>((done) => child.once('exit', () => done()))
  child.kill('SIGTERM')
  await exited
}, 180_000)

