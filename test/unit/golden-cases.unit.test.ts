import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { readCaseFile } from '../../src/check/golden/case-file.js'
import { runGoldenFiles } from '../../src/check/golden/cases.js'
import { goldenProject } from '../../src/project/fuzz-targets.js'
import { loadProject } from '../../src/project/load.js'
import { goldenJunit, renderGolden } from '../../src/check/golden/report.js'
import { EventspineError } from '../../src/errors.js'

const dir = mkdtempSync(join(tmpdir(), 'eventspine-golden-cases-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let n = 0
/** Writes a case file and reads it back: the error it raises, or undefined. */
async function errorOf(content: unknown): Promise<EventspineError | undefined> {
  const file = join(dir, `c${n++}.case.json`)
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content))
  return readCaseFile(file, 'cases/x.case.json').then(() => undefined, (e: unknown) => e as EventspineError)
}

const when = [{ type: 'pipeline.file.validated', key: 'f1', payload: {} }]

describe('case files', () => {
  it('read one case at the top level or several under "cases", each with its consumer', async () => {
    const one = join(dir, 'one.case.json')
    writeFileSync(one, JSON.stringify({ consumer: 'score', name: 'one', when: when[0], then: { emits: [] } }))
    const many = join(dir, 'many.case.json')
    writeFileSync(many, JSON.stringify({ consumer: 'score', cases: [{ name: 'a', when, then: { emits: [] } }, { name: 'b', consumer: 'validate', when, then: { state: { x: null } } }] }))
    expect((await readCaseFile(one)).map((c) => [c.consumer, c.name, c.when.length, c.file])).toEqual([['score', 'one', 1, one]])
    expect((await readCaseFile(many)).map((c) => [c.consumer, c.name])).toEqual([['score', 'a'], ['validate', 'b']])
  })

  it('a malformed file is a usage error naming the file, the field and what to do', async () => {
    const cases: [unknown, string][] = [
      ['{ "consumer": ', 'cases/x.case.json: the file is not JSON'],
      [{ name: 'n', when, then: { emits: [] } }, 'cases/x.case.json: consumer is missing'],
      [{ consumer: 'score', cases: [{ name: 'n', when: [{ key: 'k', payload: {} }], then: { emits: [] } }] }, 'cases/x.case.json: cases[0].when[0].type is missing'],
      [{ consumer: 'score', cases: [{ name: 'n', when: [{ type: 't', key: 'k' }], then: { emits: [] } }] }, 'cases[0].when[0].payload is missing'],
      [{ consumer: 'score', name: 'n', when, then: { emit: [] } }, 'then.emit is not a field here (known: emits, state, deadLettered, inspect)'],
      [{ consumer: 'score', name: 'n', when, then: {} }, 'then expects nothing'],
      [{ consumer: 'score', name: 'n', when, then: { emits: [{ type: 't', payload: 1, payloadIncludes: 1 }] } }, 'then.emits[0] gives both payload (exact) and payloadIncludes'],
      [{ consumer: 'score', name: 'n', when, given: { state: { a: 1 } }, then: { emits: [] } }, 'given.state.a must be a string (a string key), an object (a hash)'],
      [{ consumer: 'score', cases: [{ name: 'n', when, then: { emits: [] } }, { name: 'n', when, then: { emits: [] } }] }, 'cases[1].name "n" names two cases of the file'],
      [{ consumer: 'score', cases: [] }, 'cases must be a non-empty list'],
      [{ consumer: 'score', name: 'n', when, then: { deadLettered: [{ event: -1 }] } }, 'then.deadLettered[0].event must be a whole number'],
    ]
    for (const [content, message] of cases) {
      const error = await errorOf(content)
      expect(error?.code, message).toBe('E_GOLDEN_CASE')
      expect(error?.message).toContain(message)
      expect(error?.hint).toContain('pipeline test --help')
      expect(error?.details?.['usage']).toBe(true)
    }
  })
})

describe('finding case files', () => {
  it('a folder without any, or a path that does not exist, is a usage error saying where it looked', async () => {
    const empty = mkdtempSync(join(dir, 'empty-'))
    writeFileSync(join(empty, 'notes.json'), '{}')
    const none = await runGoldenFiles({ project: await goldenProject(await loadProject({ cwd: empty })), cwd: empty }).then(() => undefined, (e: unknown) => e as EventspineError)
    expect([none?.code, none?.message, none?.details?.['usage']]).toEqual(['E_GOLDEN_NO_CASES', `no case files (*.case.json) under ${empty}`, true])
    const missing = await runGoldenFiles({ project: await goldenProject(await loadProject({ cwd: empty })), cwd: empty, paths: ['nope.case.json'] }).then(() => undefined, (e: unknown) => e as EventspineError)
    expect([missing?.code, missing?.message]).toEqual(['E_GOLDEN_NO_CASES', `${join(empty, 'nope.case.json')} does not exist`])
  })
})

describe('the built-in stages\' golden cases (test/golden)', () => {
  it('all pass, without Redis; the report has a line per case, and JUnit a testcase per case', async () => {
    const report = await runGoldenFiles({ project: await goldenProject(await loadProject()), paths: ['test/golden'] })
    const failures = report.results.filter((r) => !r.passed).map((r) => `${r.file} ${r.name}\n${r.failure ?? ''}`)
    expect(failures).toEqual([])
    expect(new Set(report.results.map((r) => r.consumer))).toEqual(new Set(['ingest', 'validate', 'score']))
    const text = renderGolden(report)
    expect(text).toMatch(/^pass {2}test\/golden\/score\.case\.json > score > the same event delivered twice is applied once \(the inbox\) {2}\(\d+\.\d ms\)$/m)
    expect(text).toContain(`${report.results.length}/${report.results.length} cases pass`)
    const xml = goldenJunit(report)
    expect(xml.match(/<testcase /g)?.length).toBe(report.results.length)
    expect(xml).toContain('<testsuite name="test/golden/validate.case.json" tests="2" failures="0"')
  })
})
