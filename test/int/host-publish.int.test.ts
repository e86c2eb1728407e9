import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeEvent } from '../../src/events/envelope.js'
import { expand, publishFiles } from '../../src/pipeline/host/publish.js'
import { testClient, testNamespace, testRedisUrl } from '../support/namespace.js'

let dir: string

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'eventspine-publish-'))
  for (const name of ['a.csv', 'b.csv', 'c.json', '.hidden.csv', 'sub/d.csv', 'sub/deeper/e.csv']) {
    mkdirSync(join(dir, name, '..'), { recursive: true })
    writeFileSync(join(dir, name), `isin,nav\n${name},1\n`)
  }
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const names = (paths: string[]) => paths.map((p) => p.slice(dir.length + 1))

describe('expand: paths and globs', () => {
  it('matches like a shell: *, ?, {a,b}, [..] and ** (dotfiles only when spelled out)', async () => {
    expect(names(await expand('*.csv', dir))).toEqual(['a.csv', 'b.csv'])
    expect(names(await expand('?.{csv,json}', dir))).toEqual(['a.csv', 'b.csv', 'c.json'])
    expect(names(await expand('[ab].csv', dir))).toEqual(['a.csv', 'b.csv'])
    expect(names(await expand('**/*.csv', dir))).toEqual(['a.csv', 'b.csv', 'sub/d.csv', 'sub/deeper/e.csv'])
    expect(names(await expand('sub/*.csv', dir))).toEqual(['sub/d.csv'])
    expect(names(await expand(join(dir, 'sub', '**', '*.csv'), '/'))).toEqual(['sub/d.csv', 'sub/deeper/e.csv'])
    expect(names(await expand('.h*', dir))).toEqual(['.hidden.csv'])
    expect(names(await expand('a.csv', dir))).toEqual(['a.csv'])
  })

  it('names a missing file, a glob with no match and a directory', async () => {
    await expect(expand('missing.csv', dir)).rejects.toMatchObject({ code: 'E_PUBLISH_MISSING', message: 'no such file: missing.csv' })
    await expect(expand('*.xml', dir)).rejects.toMatchObject({ code: 'E_PUBLISH_NO_MATCH', message: 'no file matches *.xml' })
    await expect(expand('sub', dir)).rejects.toMatchObject({ code: 'E_PUBLISH_DIRECTORY', message: 'sub is a directory' })
  })
})

describe('publishFiles', () => {
  it('publishes one received event per file and returns its correlation id', async () => {
    const namespace = testNamespace('publish')
    const result = await publishFiles({ patterns: ['*.csv', 'c.json'], cwd: dir, redisUrl: testRedisUrl(), namespace })
    expect(result.pipelineUp).toBe(false)
    expect(result.files.map((f) => f.file)).toEqual(['a.csv', 'b.csv', 'c.json'])
    const entries = (await testClient().xrange(`{${namespace}}:stream:pipeline.file.received`, '-', '+')) as [string, string[]][]
    const events = entries.map(([, fields]) => decodeEvent(fields))
    expect(events.map((e) => e.correlationId)).toEqual(result.files.map((f) => f.correlationId))
    expect(events.map((e) => (e.payload as { fileName: string }).fileName)).toEqual(['a.csv', 'b.csv', 'c.json'])
  })

  it('sends nothing when one argument is wrong', async () => {
    const namespace = testNamespace('publish')
    await expect(publishFiles({ patterns: ['a.csv', 'nope.csv'], cwd: dir, redisUrl: testRedisUrl(), namespace })).rejects.toMatchObject({ code: 'E_PUBLISH_MISSING' })
    expect(await testClient().exists(`{${namespace}}:stream:pipeline.file.received`)).toBe(0)
  })
})
