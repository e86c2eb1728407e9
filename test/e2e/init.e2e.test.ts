import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from '../support/bus.js'
import { runCli, runProcess } from '../support/cli.js'
import { testClient, testNamespace, testRedisUrl } from '../support/namespace.js'
import { teamValidate } from '../support/project.js'

// A team's path, from what `npm pack` ships, never from this source tree: init from the
// unpacked tarball, `npm install` of the tarball into the scaffold, then `npx pipeline up --demo`
// and `npx vitest run` there. The steps build on each other, in order.
const REPO = resolve('.')
let work = ''
let tarball = ''
let unpackedBin = ''
let proj = ''
let gitBefore = ''
let installed = false

/** npm and npx as a user's shell runs them: the real HOME (npm's warm cache), none of this run's PIPELINE_ or VITEST settings or node_modules/.bin. */
function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const path = (process.env['PATH'] ?? '').split(delimiter).filter((p) => !p.includes('node_modules/.bin')).join(delimiter)
  return { PATH: path, HOME: process.env['HOME'] ?? tmpdir(), TMPDIR: tmpdir(), ...extra }
}

async function gitStatus(): Promise<string> {
  const status = await runProcess('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: REPO, env: userEnv() })
  expect(status.code, status.stderr).toBe(0)
  return status.stdout
}

beforeAll(async () => {
  if (!existsSync(resolve('dist/commands/init.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does).')
  gitBefore = await gitStatus()
  work = realpathSync(mkdtempSync(join(tmpdir(), 'eventspine-init-')))
  const pack = await runProcess('npm', ['pack', '--pack-destination', work, '--json'], { cwd: REPO, env: userEnv() })
  expect(pack.code, pack.stderr).toBe(0)
  tarball = join(work, (JSON.parse(pack.stdout) as { filename: string }[])[0]!.filename)
  // The tarball's own files run init; only its dependencies come from this checkout's node_modules.
  const unpack = await runProcess('tar', ['xzf', tarball, '-C', work], { cwd: work, env: userEnv() })
  expect(unpack.code, unpack.stderr).toBe(0)
  symlinkSync(resolve('node_modules'), join(work, 'package', 'node_modules'))
  unpackedBin = join(work, 'package', 'bin', 'run.js')
  proj = join(work, 'proj')
})

afterAll(() => {
  if (work !== '') rmSync(work, { recursive: true, force: true })
})

describe('pipeline init, from the packed tarball', () => {
  it('writes the scaffold, refuses to overwrite it, and overwrites it with --force', async () => {
    const first = await runCli(['init', proj, '--eventspine', `file:${tarball}`, '--json'], { cwd: work, env: userEnv(), bin: unpackedBin })
    expect(first.stderr).toBe('')
    expect(first.code).toBe(0)
    const wrote = JSON.parse(first.stdout) as { dir: string; files: string[]; overwritten: string[]; eventspine: string; fromRegistry: boolean }
    expect(wrote).toMatchObject({ dir: proj, overwritten: [], eventspine: `file:${tarball}`, fromRegistry: false })
    expect(wrote.files).toEqual([
      '.gitignore',
      'README.md',
      'consumers/audit.case.json',
      'consumers/audit.test.ts',
      'consumers/audit.ts',
      'contracts/audit.file.recorded/v1.schema.json',
      'package.json',
      'pipeline.config.ts',
      'samples/northwind-nav-2026-11-24.csv',
      'tsconfig.json',
    ])
    const manifest = JSON.parse(readFileSync(join(proj, 'package.json'), 'utf8')) as Record<string, Record<string, string>>
    expect(manifest['name']).toBe('proj')
    expect(manifest['type']).toBe('module')
    expect(manifest['dependencies']).toEqual({ eventspine: `file:${tarball}` })
    expect(Object.keys(manifest['devDependencies'] ?? {})).toEqual(['@types/node', 'tsx', 'vitest'])
    expect(manifest['scripts']).toMatchObject({ test: 'vitest run', demo: 'pipeline up --demo', fuzz: 'pipeline fuzz' })
    expect(readFileSync(join(proj, '.gitignore'), 'utf8')).toBe('node_modules\n.pipeline\n')
    expect(readFileSync(join(proj, 'samples', 'northwind-nav-2026-11-24.csv'))).toEqual(readFileSync(resolve('fixtures/inbox/northwind-nav-2026-11-24.csv')))

    const again = await runCli(['init', 'proj'], { cwd: work, env: userEnv(), bin: unpackedBin })
    expect(again.code).toBe(1)
    expect(again.stderr).toContain(`${proj} already has files pipeline init would write: .gitignore, README.md, consumers/audit.case.json, consumers/audit.test.ts`)
    expect(again.stderr).toContain('Pass --force to overwrite them')

    const forced = await runCli(['init', 'proj', '--force', '--eventspine', tarball.replace(`${work}/`, './')], { cwd: work, env: userEnv(), bin: unpackedBin })
    expect(forced.stderr).toBe('')
    expect(forced.code).toBe(0)
    expect(forced.stdout).toContain('package.json  (overwritten)')
    expect(forced.stdout).toContain(`npm install                # eventspine from file:${tarball}`)
    expect(forced.stdout).toContain('npx pipeline up --demo')

    // Without --eventspine the spec is npm's (^<version>), which cannot be installed: the next steps say so.
    const bare = await runCli(['init', 'bare'], { cwd: work, env: userEnv(), bin: unpackedBin })
    expect(bare.code).toBe(0)
    expect(bare.stdout).toContain('eventspine is not on the npm registry')
    const version = (JSON.parse(readFileSync(resolve('package.json'), 'utf8')) as { version: string }).version
    expect((JSON.parse(readFileSync(join(work, 'bare', 'package.json'), 'utf8')) as { dependencies: object }).dependencies).toEqual({ eventspine: `^${version}` })
    const missing = await runCli(['init', 'other', '--eventspine', './no-such.tgz'], { cwd: work, env: userEnv(), bin: unpackedBin })
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain(`--eventspine ./no-such.tgz: no such file or folder (${join(work, 'no-such.tgz')})`)
    expect(existsSync(join(work, 'other'))).toBe(false)
  })

  it('npm install installs eventspine from the tarball, with its dependencies from the registry', async () => {
    // About 40 s with npm's cache warm on the 2-core machine; longer than one CLI run may take.
    const install = await runProcess('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: proj, env: userEnv(), timeoutMs: 220_000 })
    expect(install.code, install.stderr).toBe(0)
    // A copy unpacked from the tarball, not a link to this checkout.
    expect(realpathSync(join(proj, 'node_modules', 'eventspine'))).toBe(join(proj, 'node_modules', 'eventspine'))
    expect(existsSync(join(proj, 'node_modules', 'eventspine', 'templates', 'init', 'pipeline.config.ts'))).toBe(true)
    installed = true
  })

  /**
   * `npx pipeline up` on the test's Redis, its output collected. A terminal's Ctrl-C reaches npx
   * too, and npm then exits by the signal, which would hide up's exit code: `stop` signals up
   * itself (its pid is in .pipeline/up.json) and npx passes its code on.
   */
  function startUp(namespace: string, extra: readonly string[] = []) {
    const up = spawn('npx', ['pipeline', 'up', '--port', '0', ...extra], { cwd: proj, env: userEnv({ PIPELINE_REDIS_URL: testRedisUrl(), PIPELINE_NAMESPACE: namespace }), stdio: ['ignore', 'pipe', 'pipe'] })
    const out = { stdout: '', stderr: '' }
    up.stdout.on('data', (chunk: Buffer) => void (out.stdout += chunk.toString()))
    up.stderr.on('data', (chunk: Buffer) => void (out.stderr += chunk.toString()))
    const exited = new Promise<number | null>((done) => up.on('exit', (code) => done(code)))
    return {
      out,
      ready: () => waitFor(() => out.stdout.includes('pipeline up: redis'), { what: 'up to start' }),
      async stop() {
        const record = JSON.parse(readFileSync(join(proj, '.pipeline', 'up.json'), 'utf8')) as { pid: number }
        process.kill(record.pid, 'SIGINT')
        expect(await exited).toBe(0)
      },
      kill: () => up.exitCode === null && up.kill('SIGKILL'),
    }
  }

  it('npx pipeline up --demo runs the audit consumer beside the fund pipeline and stops cleanly', async () => {
    expect(installed, 'the scaffold is installed by the test before').toBe(true)
    const namespace = testNamespace('init')
    const up = startUp(namespace, ['--demo'])
    try {
      const files = Number(await waitFor(() => /demo: dropping (\d+) sample files/.exec(up.out.stdout)?.[1], { what: 'the demo line on stdout' }))
      const endings = () => [...up.out.stdout.matchAll(/^\d\d:\d\d:\d\d (delivered|rejected|duplicate) /gm)].map((m) => m[1])
      await waitFor(() => endings().length === files, { what: `${files} demo files ended` })
      const delivered = endings().filter((e) => e === 'delivered').length
      expect(delivered).toBeGreaterThan(0)
      // Each delivered file counted once in audit's state and recorded once in its own event.
      const redis = testClient()
      const counted = async () => Object.values(await redis.hgetall(`{${namespace}}:state:audit:delivered-per-kind`)).reduce((n, v) => n + Number(v), 0)
      await waitFor(async () => (await counted()) === delivered, { what: `audit to count ${delivered} delivered files` })
      expect(await redis.xlen(`{${namespace}}:stream:audit.file.recorded`)).toBe(delivered)
      await waitFor(() => /^\d\d:\d\d:\d\d audit handled=[1-9]/m.test(up.out.stdout), { what: "audit's stage line on stdout" })

      await up.stop()
      expect(up.out.stdout).toContain('SIGINT: stopping')
      expect(up.out.stdout).toContain('Stopped cleanly')
      expect(up.out.stderr).toBe('')
    } finally {
      up.kill()
    }
  })

  it("the scaffold type-checks against the tarball's types, and npx vitest run passes its checkConsumer test on a redis-server of its own", async () => {
    expect(installed, 'the scaffold is installed by the test before').toBe(true)
    // The compiler is this checkout's (the scaffold has none); the types are the installed tarball's.
    const tsc = await runProcess(process.execPath, [resolve('node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: proj, env: userEnv() })
    expect(tsc.code, tsc.stdout).toBe(0)
    const run = await runProcess('npx', ['vitest', 'run'], { cwd: proj, env: userEnv({ NO_COLOR: '1' }) })
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0)
    expect(run.stdout).toContain('consumers/audit.test.ts')
    expect(run.stdout).toMatch(/Tests\s+1 passed/)
  })

  // The rest of a team's path, in the installed scaffold: their consumer edited while up runs,
  // their own validate under load, their consumer's dead letters and replay, fuzz and golden cases.
  const auditFile = () => join(proj, 'consumers', 'audit.ts')
  const configFile = () => join(proj, 'pipeline.config.ts')
  const fixture = (name: string) => join(proj, 'node_modules', 'eventspine', 'fixtures', 'inbox', name)
  const npx = (args: string[], namespace: string, timeoutMs?: number) =>
    runProcess('npx', ['pipeline', ...args], { cwd: proj, env: userEnv({ PIPELINE_REDIS_URL: testRedisUrl(), PIPELINE_NAMESPACE: namespace, NO_COLOR: '1' }), ...(timeoutMs === undefined ? {} : { timeoutMs }) })
  const kindCounts = async (namespace: string, field: string) => Object.values(await testClient().hgetall(`{${namespace}}:state:audit:${field}`)).reduce((n, v) => n + Number(v), 0)

  it('up reloads audit when it is edited, loses and repeats nothing, and trace lists it', async () => {
    expect(installed, 'the scaffold is installed by the test before').toBe(true)
    const namespace = testNamespace('walk')
    const original = readFileSync(auditFile(), 'utf8')
    const up = startUp(namespace)
    try {
      await up.ready()
      const first = await npx(['publish', '--wait', 'samples/northwind-nav-2026-11-24.csv'], namespace)
      expect(first.code, first.stderr).toBe(0)
      await waitFor(async () => (await kindCounts(namespace, 'delivered-per-kind')) === 1, { what: 'audit to count the first file' })
      // The edit: from now on audit counts under another name, so each file shows which version counted it.
      writeFileSync(auditFile(), original.replace("hincrby('delivered-per-kind'", "hincrby('delivered-per-kind-v2'"))
      await waitFor(() => /^reloaded \d\d:\d\d:\d\d: restarted audit$/m.test(up.out.stdout), { what: 'the reload line' })
      const second = await npx(['publish', '--wait', fixture('lumen-reference.csv')], namespace)
      expect(second.code, second.stderr).toBe(0)
      await waitFor(async () => (await kindCounts(namespace, 'delivered-per-kind-v2')) === 1, { what: 'the new audit to count the second file' })
      expect(await kindCounts(namespace, 'delivered-per-kind')).toBe(1)
      expect(await testClient().xlen(`{${namespace}}:stream:audit.file.recorded`)).toBe(2)

      const trace = await npx(['trace', 'samples/northwind-nav-2026-11-24.csv'], namespace)
      expect(trace.code, trace.stderr).toBe(0)
      expect(trace.stdout).toContain('delivered (pipeline.file.delivered)')
      expect(trace.stdout).toMatch(/└─ audit\.file\.recorded {2}audit {2}/)
      await up.stop()
    } finally {
      up.kill()
      writeFileSync(auditFile(), original)
    }
  })

  it("load runs the day through the team's own validate: a faithful one passes the manifest check, one with a bug fails naming the rule", async () => {
    expect(installed, 'the scaffold is installed by the test before').toBe(true)
    const config = readFileSync(configFile(), 'utf8')
    const validate = (skip: string) => teamValidate(skip, { eventspine: 'eventspine', fund: 'eventspine/fund' })
    try {
      writeFileSync(configFile(), config.replace("import { audit } from './consumers/audit.js'", "import { audit } from './consumers/audit.js'\nimport { validate } from './consumers/validate.js'").replace('[fundPipeline(), audit]', '[fundPipeline(), validate, audit]'))
      const day = ['load', '--events-per-day', '400', '--seed', '21', '--faults', '0.25', '--assert', 'mismatches=0']
      writeFileSync(join(proj, 'consumers', 'validate.ts'), validate('none'))
      const faithful = await npx(day, testNamespace('walk'))
      expect(faithful.code, `${faithful.stdout}\n${faithful.stderr}`).toBe(0)
      expect(faithful.stdout).toContain('  mismatches   0')
      expect(faithful.stdout).toMatch(/^ {2}consumer audit: handled \d+ /m)
      writeFileSync(join(proj, 'consumers', 'validate.ts'), validate('isin-check-digit'))
      const buggy = await npx(day, testNamespace('walk'))
      expect(buggy.code).toBe(1)
      expect(buggy.stdout).toMatch(/expected rejected at validate \(isin-check-digit\), got delivered/)
      expect(buggy.stdout).toContain('gate BROKEN mismatches=0')
    } finally {
      writeFileSync(configFile(), config)
      rmSync(join(proj, 'consumers', 'validate.ts'), { force: true })
    }
  })

  it("dlq replay re-delivers audit's dead letters once it is fixed, and replay runs audit over a window", async () => {
    expect(installed, 'the scaffold is installed by the test before').toBe(true)
    const namespace = testNamespace('walk')
    const original = readFileSync(auditFile(), 'utf8')
    // A bug for reference files: each is retried, then dead-lettered by audit alone.
    writeFileSync(auditFile(), original.replace('const file = event.payload as Delivered', "const file = event.payload as Delivered\n    if (file.kind === 'reference') throw new Error('audit cannot record reference files yet')"))
    const up = startUp(namespace)
    try {
      await up.ready()
      for (const file of ['samples/northwind-nav-2026-11-24.csv', fixture('lumen-reference.csv')]) {
        const published = await npx(['publish', '--wait', file], namespace)
        expect(published.code, published.stderr).toBe(0)
      }
      await waitFor(async () => ((await testClient().xlen(`{${namespace}}:dlq:audit`)) === 1 ? true : null), { what: "audit's dead letter" })
      await up.stop()
    } finally {
      up.kill()
      writeFileSync(auditFile(), original)
    }
    const redelivered = await npx(['dlq', 'replay', '--all', '--consumer', 'audit'], namespace)
    expect(redelivered.code, redelivered.stderr).toBe(0)
    expect(await testClient().xlen(`{${namespace}}:dlq:audit`)).toBe(0)
    expect(await kindCounts(namespace, 'delivered-per-kind')).toBe(2)
    const replayed = await npx(['replay', '--consumer', 'audit', '--since', '1h'], namespace)
    expect(replayed.code, replayed.stderr).toBe(0)
    expect(replayed.stdout).toContain('Replayed audit')
    expect(replayed.stdout).toMatch(/2 events read, 2 applied/)
  })

  it('fuzz proves audit\'s properties, and pipeline test runs its golden case without Redis', async () => {
    expect(installed, 'the scaffold is installed by the test before').toBe(true)
    const fuzz = await npx(['fuzz', '--consumer', 'audit', '--runs', '10'], testNamespace('walk'))
    expect(fuzz.code, `${fuzz.stdout}\n${fuzz.stderr}`).toBe(0)
    const golden = await npx(['test'], testNamespace('walk'))
    expect(golden.code, `${golden.stdout}\n${golden.stderr}`).toBe(0)
    expect(golden.stdout).toContain('pass  consumers/audit.case.json > audit > a delivered file is recorded once and counted under its kind')
    expect(golden.stdout).toMatch(/1\/1 cases pass in [\d.]+ ms, no Redis/)
  })

  it("leaves this project's source tree as it was", async () => {
    expect(await gitStatus()).toBe(gitBefore)
  })
})
