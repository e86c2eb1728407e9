import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bareEnv, runCli } from '../support/cli.js'
import { testRedisUrl } from '../support/namespace.js'

// `pipeline load --report` from the built CLI: one HTML file with the bundle and the run inlined.
// (What the page shows is checked in a browser by test/int/console-reports.int.test.ts.)
let project: string

beforeAll(() => {
  if (!existsSync(resolve('dist/console/app.js'))) throw new Error('dist/console is missing: run `npm run build` first (npm test does).')
  project = mkdtempSync(join(tmpdir(), 'eventspine-pages-'))
})
afterAll(() => rmSync(project, { recursive: true, force: true }))

describe('load --report', () => {
  it('writes one self-contained HTML file of the run and says where', async () => {
    const run = await runCli(['load', '--events-per-day', '300', '--date', '2026-11-20', '--seed', '3', '--assert', 'mismatches=0', '--report', 'run.html'], {
      cwd: project,
      env: bareEnv(project, { PIPELINE_REDIS_URL: testRedisUrl() }),
    })
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('report: run.html')
    const html = readFileSync(join(project, 'run.html'), 'utf8')
    // Nothing loaded from anywhere: no src= or href= to fetch, a CSP that allows no source at all but the inlined script and style.
    expect(html).not.toMatch(/\s(src|href)=/)
    expect(html).toMatch(/content="default-src 'none'; script-src 'sha256-[^']+'; style-src 'sha256-[^']+'/)
    const data = JSON.parse(/<script type="application\/json" id="eventspine-data">([^<]*)<\/script>/.exec(html)?.[1] ?? 'null') as { kind: string; data: { gates: { text: string; ok: boolean }[] } }
    expect(data.kind).toBe('load-report')
    expect(data.data.gates).toEqual([expect.objectContaining({ text: 'mismatches=0', ok: true })])
  })
})
