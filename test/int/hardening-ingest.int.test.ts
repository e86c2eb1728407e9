import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import iconv from 'iconv-lite'
import { describe, expect, it } from 'vitest'
import { decodeFile } from '../../src/pipeline/decode.js'
import { ingestFile } from '../../src/pipeline/ingest.js'
import { receivedEvent } from '../../src/pipeline/intake.js'
import { jsonDepth, MAX_JSON_DEPTH } from '../../src/pipeline/parse.js'
import { defaultProfilesDir } from '../../src/pipeline/paths.js'
import { loadProfiles } from '../../src/pipeline/profiles.js'
import { fixturesDir } from './hardening-support.js'

// Ingest's own answers to bad bytes, without Redis (the host test drops the same files in an inbox).
const profiles = loadProfiles(defaultProfilesDir())
const good = readFileSync(join(fixturesDir, 'inbox', 'northwind-nav-2026-11-24.csv'))
const ingest = (name: string, bytes: Uint8Array) => ingestFile(receivedEvent(name, bytes).payload, profiles)
const rules = (name: string, bytes: Uint8Array) => {
  const result = ingest(name, bytes)
  return result.ok ? `ok ${result.payload.encoding}` : result.reasons.map((r) => `${r.rule}: ${r.message}`).join('; ')
}

describe('ingest: bad bytes get a specific rule', () => {
  it('decodes UTF-16 without a byte-order mark (both byte orders) instead of calling it binary', () => {
    expect(rules('u16le.csv', iconv.encode(good.toString('utf8'), 'utf16le'))).toBe('ok utf-16le')
    expect(rules('u16be.csv', iconv.encode(good.toString('utf8'), 'utf16be'))).toBe('ok utf-16be')
  })

  it('reads Latin-1 / Windows-1252 bytes as such', () => {
    expect(rules('latin1.csv', readFileSync(join(fixturesDir, 'faulty', 'lumen-reference-latin1.csv')))).toBe('ok windows-1252')
  })

  it('names a few NUL bytes inside a CSV with where the first one is; many NULs stay a binary file', () => {
    const at = good.indexOf(10) + 5
    const withNul = Buffer.concat([good.subarray(0, at), Buffer.from([0]), good.subarray(at)])
    expect(rules('nul.csv', withNul)).toMatch(/^nul-bytes: file contains 1 NUL byte \(the first at byte \d+, line 2\)/)
    expect(rules('binary.csv', readFileSync(join(fixturesDir, 'faulty', 'binary.csv')))).toMatch(/^binary-file: /)
    expect(decodeFile(Buffer.from([0x50, 0x4b, 3, 4, 0, 0, 0, 0, 8, 0]))).toMatchObject({ ok: false, rule: 'binary-file' })
  })

  it('refuses 100,000 levels of nested JSON without blowing the stack', () => {
    const deep = `{"rows":[{"isin":${'['.repeat(100_000)}${']'.repeat(100_000)}}]}`
    expect(jsonDepth(deep)).toBe(MAX_JSON_DEPTH + 1)
    expect(rules('deep.json', Buffer.from(deep))).toMatch(/^json-too-deep: JSON nests arrays or objects more than 64 levels/)
    expect(rules('deep-array.json', Buffer.from('['.repeat(100_000) + ']'.repeat(100_000)))).toMatch(/^json-too-deep: /)
    // Brackets inside strings do not count.
    expect(jsonDepth('[{"a":"[[[[{{{{\\"[["}]')).toBe(2)
  })

  it('refuses a 1 MB row, an empty file and a file over the size limit by rule', () => {
    expect(rules('wide.csv', Buffer.from(`isin,nav\n${'x'.repeat(1_000_000)},1\n`))).toMatch(/^row-too-large: a row is longer than the 65536-character row limit/)
    expect(rules('empty.csv', Buffer.alloc(0))).toBe('empty-file: file is empty (0 bytes)')
    expect(rules('blank.csv', Buffer.from('\n\n  \n'))).toMatch(/^empty-file: /)
    expect(rules('big.csv', Buffer.alloc(17 * 1024 * 1024, 0x61))).toMatch(/^file-too-large: file is 17825792 bytes, over the 16777216-byte limit/)
  })
})
