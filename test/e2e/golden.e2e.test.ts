import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { XMLParser } from 'fast-xml-parser'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bareEnv, runCli } from '../support/cli.js'

// The built CLI as a user runs it (`npm test` builds first). No Redis anywhere: none is given.
let scratch: string
const project = resolve('test/fixtures-golden/project')

function pipeline(args: string[], cwd = resolve('.')): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCli(args, { cwd, env: bareEnv(scratch) })
}

/** oclif wraps a usage error's lines behind "›": read it as one line. */
const oneLine = (text: string) => text.replace(/\s*›\s*/g, ' ').replace(/\s+/g, ' ')

beforeAll(() => {
  if (!existsSync(resolve('dist/commands/test.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does).')
  scratch = mkdtempSync(join(tmpdir(), 'eventspine-golden-'))
})
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

describe('pipeline test', () => {
  it('finds the case files of a project (pipeline.config.ts, a factory consumer, its contracts) and passes: exit 0', async () => {
    const run = await pipeline(['test'], project)
    // Nothing in this project emits what receipts reads: said once, and not a failure.
    expect(run.stderr).toBe(`warning: nothing in ${join(project, 'pipeline.config.ts')} emits account.credited, which receipts reads: another service must publish it\n`)
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/^pass {2}consumers\/receipts\.case\.json > receipts > a credit adds to the balance and emits a receipt {2}\(\d+\.\d ms\)$/m)
    expect(run.stdout).toContain('> a credit above the limit is retried, then dead-lettered, and changes nothing')
    expect(run.stdout).toMatch(/^2\/2 cases pass in \d+\.\d ms, no Redis/m)
    // The broken cases beside the project are not under it: only what is asked for runs.
    expect(run.stdout).not.toContain('wrong on purpose')
  })

  it('a failing case: exit 1, the diff under its line, and --junit with the failure', async () => {
    const junit = join(scratch, 'golden.xml')
    const run = await pipeline(['test', '../broken/failing.case.json', 'consumers', '--junit', junit], project)
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(/^FAIL {2}\.\.\/broken\/failing\.case\.json > receipts > a receipt with the wrong amount/m)
    expect(run.stdout).toMatch(/^ {6}- {9}"amount": 7$/m)
    expect(run.stdout).toMatch(/^ {6}\+ {9}"amount": 70$/m)
    expect(run.stdout).toContain('2/3 cases pass')
    expect(run.stdout).toContain('1 failed: exit code 1.')
    const doc = new XMLParser({ ignoreAttributes: false }).parse(readFileSync(junit, 'utf8')) as { testsuites: { testsuite: { '@_name': string; '@_failures': string; testcase: unknown }[] } }
    const suites = doc.testsuites.testsuite
    expect(suites.map((s) => [s['@_name'], s['@_failures']])).toEqual([['../broken/failing.case.json', '1'], ['consumers/receipts.case.json', '0']])
    expect(readFileSync(junit, 'utf8')).toContain('<failure message="expected &quot;amount&quot;: 7, actual &quot;amount&quot;: 70">')
  })

  it('--json gives every case with its result and failure', async () => {
    const run = await pipeline(['test', '../broken/failing.case.json', '--json'], project)
    expect(run.code).toBe(1)
    const doc = JSON.parse(run.stdout) as { passed: boolean; results: { consumer: string; name: string; passed: boolean; failure: string | null }[] }
    expect(doc.passed).toBe(false)
    expect(doc.results).toHaveLength(1)
    expect(doc.results[0]?.failure).toContain('+         "amount": 70')
  })

  it('a malformed case file, or one naming an unknown consumer: exit 2 naming the file and the field, before any case runs', async () => {
    const malformed = await pipeline(['test', '../broken/malformed.case.json', 'consumers'], project)
    expect(malformed.code).toBe(2)
    expect(malformed.stdout).toBe('')
    expect(oneLine(malformed.stderr)).toContain('../broken/malformed.case.json: cases[0].when[0].type is missing (a string)')
    expect(oneLine(malformed.stderr)).toContain('see pipeline test --help')
    const unknown = await pipeline(['test', '../broken/unknown-consumer.case.json'], project)
    expect(unknown.code).toBe(2)
    expect(oneLine(unknown.stderr)).toContain('../broken/unknown-consumer.case.json: unknown consumer "reciepts": did you mean receipts?')
  })

  it('runs the built-in stages\' golden cases (test/golden) from the repository: exit 0', async () => {
    const run = await pipeline(['test', 'test/golden'])
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('> score > a NAV 34.6% above the day before is flagged as a jump')
    expect(run.stdout).toMatch(/^7\/7 cases pass in /m)
  })
})
