import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import iconv from 'iconv-lite'
import { describe, expect, it } from 'vitest'
import { hasCode } from '../../src/errors.js'
import { decodeFile } from '../../src/pipeline/decode.js'
import { detectKind } from '../../src/pipeline/fields.js'
import { canonicalColumns, eventSizeBound, ingestFile } from '../../src/pipeline/ingest.js'
import { mapFile } from '../../src/pipeline/mapping.js'
import fc from 'fast-check'
import { receivedEvent } from '../../src/pipeline/intake.js'
import { detectDelimiter, MAX_ROW_BYTES, MAX_ROWS, parseTable } from '../../src/pipeline/parse.js'
import { defaultProfilesDir, packageRoot } from '../../src/pipeline/paths.js'
import { detectProfile, loadProfiles, parseProfile } from '../../src/pipeline/profiles.js'
import { loadReferenceData } from '../../src/pipeline/reference.js'

const profiles = loadProfiles(defaultProfilesDir())
const fixture = (path: string): Buffer => readFileSync(join(packageRoot(), 'fixtures', path))
const ingest = (name: string, bytes: Uint8Array) => ingestFile(receivedEvent(name, bytes, { receivedAt: new Date('2026-11-25T07:30:00Z') }).payload, profiles)

describe('decoding', () => {
  it('reads plain UTF-8', () => {
    expect(decodeFile(Buffer.from('a;é\n'))).toEqual({ ok: true, text: 'a;é\n', encoding: 'utf-8' })
  })
  it('strips a UTF-8 byte-order mark', () => {
    const r = decodeFile(Buffer.from([0xef, 0xbb, 0xbf, 0x41, 0x2c, 0x42]))
    expect(r).toEqual({ ok: true, text: 'A,B', encoding: 'utf-8-bom' })
  })
  it('falls back to Windows-1252 when bytes are not UTF-8', () => {
    const bytes = iconv.encode('Société Générale;Märkte;Zürich;’', 'win1252')
    expect(decodeFile(bytes)).toEqual({ ok: true, text: 'Société Générale;Märkte;Zürich;’', encoding: 'windows-1252' })
  })
  it('reads UTF-16 with a byte-order mark', () => {
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), iconv.encode('ISIN,NAV\n', 'utf16le')])
    expect(decodeFile(bytes)).toEqual({ ok: true, text: 'ISIN,NAV\n', encoding: 'utf-16le' })
  })
  it('calls NUL bytes or many control characters binary', () => {
    expect(decodeFile(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00]))).toMatchObject({ ok: false, rule: 'binary-file' })
    expect(decodeFile(Buffer.from('\x01\x02\x03\x04abc'))).toMatchObject({ ok: false, rule: 'binary-file' })
  })
})

describe('CSV and JSON parsing', () => {
  it('detects the delimiter from the header, ignoring quoted ones', () => {
    expect(detectDelimiter('a,b,c\n1;2;3')).toBe(',')
    expect(detectDelimiter('a;b;c\n1,2,3')).toBe(';')
    expect(detectDelimiter('"x;y";b,c\n')).toBe(',')
    expect(detectDelimiter('a\tb\tc\n')).toBe('\t')
  })
  it('keeps quoted fields with delimiters, quotes and newlines inside', () => {
    const r = parseTable('x.csv', 'ISIN,Name,Mkt Val\nUS0378331005,"Apple, ""Inc.""\nline 2","1,234.50"\n')
    expect(r.ok && r.table.rows).toEqual([{ ISIN: 'US0378331005', Name: 'Apple, "Inc."\nline 2', 'Mkt Val': '1,234.50' }])
  })
  it('reads CRLF line ends and skips blank lines', () => {
    const r = parseTable('x.csv', 'a;b\r\n1;2\r\n\r\n3;4\r\n')
    expect(r.ok && r.table.rows).toEqual([{ a: '1', b: '2' }, { a: '3', b: '4' }])
  })
  it('reads JSON arrays and {kind, provider, rows} documents', () => {
    const a = parseTable('x.json', JSON.stringify([{ isin: 'US0378331005', nav: 12.5, lei: null }]))
    expect(a.ok && a.table.rows).toEqual([{ isin: 'US0378331005', nav: '12.5', lei: '' }])
    const b = parseTable('x.json', JSON.stringify({ kind: 'holdings', provider: 'atlas', rows: [{ a: 1 }, { b: 2 }] }))
    expect(b.ok && b.table).toMatchObject({ declaredKind: 'holdings', declaredProvider: 'atlas', header: ['a', 'b'], rows: [{ a: '1', b: '' }, { a: '', b: '2' }] })
  })
  it.each([
    ['x.csv', '', 'empty-file'],
    ['x.csv', '  \n\n', 'empty-file'],
    ['x.csv', 'ISIN,NAV\n', 'no-rows'],
    ['x.csv', 'ISIN,NAV\nUS0378331005,1,extra\n', 'csv-syntax'],
    ['x.csv', 'ISIN,NAV\n"US0378331005,1\n', 'csv-syntax'],
    ['x.csv', 'ISIN,isin\nA,B\n', 'duplicate-column'],
    ['x.csv', 'ISIN,,NAV\nA,B,C\n', 'csv-header'],
    ['x.json', '{"rows": [', 'json-syntax'],
    ['x.json', '{"data": []}', 'json-shape'],
    ['x.json', '[1, 2]', 'json-shape'],
    ['x.json', '[]', 'no-rows'],
  ])('%s %j is refused with %s', (name, text, rule) => {
    const r = parseTable(name, text)
    expect(r.ok ? null : r.issue.rule).toBe(rule)
  })
  it('refuses a row over the row limit, naming it', () => {
    const r = parseTable('x.csv', `ISIN,Name\nUS0378331005,${'x'.repeat(MAX_ROW_BYTES + 10)}\n`)
    expect(r.ok ? null : r.issue).toMatchObject({ rule: 'row-too-large', message: expect.stringContaining('MAX_ROW_BYTES') })
  })
  it('refuses more rows than the row-count limit, naming it', () => {
    const r = parseTable('x.csv', `a\n${'1\n'.repeat(MAX_ROWS + 1)}`)
    expect(r.ok ? null : r.issue).toMatchObject({ rule: 'too-many-rows', message: expect.stringContaining('MAX_ROWS') })
    expect(parseTable('x.csv', `a\n${'1\n'.repeat(MAX_ROWS)}`).ok).toBe(true)
  })
})

describe('provider and kind detection', () => {
  it('recognises each provider by its header signature', () => {
    expect(detectProfile(['ISIN', 'Share Class', 'NAV Date', 'NAV', 'Currency'], profiles).provider).toBe('northwind')
    expect(detectProfile(['Code ISIN', 'Date VL', 'VL', 'Devise'], profiles).provider).toBe('lumen')
    expect(detectProfile(['Portfolio ISIN', 'Security ISIN', 'Pct of NAV'], profiles).provider).toBe('atlas')
    expect(detectProfile([' fund identifier ', 'PRICE DATE'], profiles).provider).toBe('atlas')
    expect(detectProfile(['isin', 'navDate', 'nav'], profiles).provider).toBe('generic')
  })
  it('tells NAV, holdings and reference apart by their columns', () => {
    const kindOf = (header: string[]) => detectKind(canonicalColumns(header, detectProfile(header, profiles)))
    expect(kindOf(['ISIN', 'Share Class', 'NAV Date', 'NAV', 'Currency'])).toBe('nav')
    expect(kindOf(['Fund ISIN', 'Holding ISIN', 'Weight %', 'Currency', 'As Of'])).toBe('holdings')
    expect(kindOf(['Code ISIN', 'Nom du fonds', 'Code LEI', 'Devise', 'Domicile'])).toBe('reference')
    expect(kindOf(['isin', 'navDate', 'nav', 'currency'])).toBe('nav')
    expect(kindOf(['Trade ID', 'Counterparty'])).toBeNull()
  })
  it('checks profile documents and names the fault', () => {
    expect(() => parseProfile({ provider: 'x', signatures: [], columns: {}, dateFormat: 'DD-MM-YY', decimalSeparator: '.', thousandsSeparator: '' }, 'x.json')).toThrow(/dateFormat/)
    expect(() => parseProfile({ provider: 'x', signatures: [], columns: {}, dateFormat: 'YYYY-MM-DD', decimalSeparator: ',', thousandsSeparator: ',' }, 'x.json')).toThrow(/differ/)
  })
})

describe('each fixture parses as its encoding, delimiter and kind', () => {
  it.each([
    ['inbox/northwind-nav-2026-11-24.csv', 'utf-8', 'csv', 'nav', 'northwind', 8],
    ['inbox/northwind-holdings-2026-11-24.csv', 'utf-8', 'csv', 'holdings', 'northwind', 20],
    ['inbox/northwind-reference.csv', 'utf-8', 'csv', 'reference', 'northwind', 6],
    ['inbox/lumen-nav-24112026.csv', 'utf-8', 'csv', 'nav', 'lumen', 5],
    ['inbox/lumen-holdings-24112026.csv', 'utf-8', 'csv', 'holdings', 'lumen', 11],
    ['inbox/lumen-reference.csv', 'utf-8', 'csv', 'reference', 'lumen', 3],
    ['inbox/atlas-nav-11-24-2026.csv', 'utf-8', 'csv', 'nav', 'atlas', 5],
    ['inbox/atlas-holdings-11-24-2026.csv', 'utf-8', 'csv', 'holdings', 'atlas', 12],
    ['inbox/atlas-reference.csv', 'utf-8', 'csv', 'reference', 'atlas', 2],
    ['inbox/nav-2026-11-24.json', 'utf-8', 'json', 'nav', 'generic', 3],
    ['inbox/holdings-2026-11-24.json', 'utf-8', 'json', 'holdings', 'generic', 7],
    ['faulty/lumen-reference-latin1.csv', 'windows-1252', 'csv', 'reference', 'lumen', 3],
    ['faulty/northwind-nav-bom.csv', 'utf-8-bom', 'csv', 'nav', 'northwind', 3],
  ])('%s', (path, encoding, format, kind, provider, rows) => {
    const r = ingest(path.split('/')[1] as string, fixture(path))
    expect(r.ok).toBe(true)
    if (!r.ok) return
    expect(r.payload).toMatchObject({ encoding, format, kind, provider, rowCount: rows })
    // A BOM or a wrong code page would show in the first column's name or the accented names.
    expect(r.payload.header[0]).toMatch(/^[A-Za-z]/)
    expect(JSON.stringify(r.payload.rows)).not.toContain('\ufffd')
  })

  it('keeps the accented fund names of the Latin-1 file', () => {
    const r = ingest('lumen-reference-latin1.csv', fixture('faulty/lumen-reference-latin1.csv'))
    expect(r.ok && r.payload.rows.map((row) => row['Nom du fonds'])).toContain('Alder Finch Actions Européennes R')
    expect(r.ok && r.payload.header).toContain('Société de gestion')
  })

  it.each([
    ['faulty/empty.csv', 'empty-file'],
    ['faulty/binary.csv', 'binary-file'],
    ['faulty/unknown-kind.csv', 'unknown-kind'],
  ])('%s is rejected at ingest with %s', (path, rule) => {
    const r = ingest(path.split('/')[1] as string, fixture(path))
    expect(r.ok ? [] : r.reasons.map((x) => x.rule)).toEqual([rule])
  })

  it('rejects a file whose records could not travel within the event cap, before any stage chokes on it', () => {
    // Long share-class names: few rows (quick to parse), but mapped carries each name twice.
    const row = `LU1842936517,Meridian ${'Global '.repeat(300)}Fund,2026-11-24,148.2731,EUR,222100K6QL2V31RXDK41,1284551203.55,8663414,NW-FA\n`
    const big = Buffer.from(fixture('inbox/northwind-nav-2026-11-24.csv').toString('utf8').split('\n')[0] + '\n' + row.repeat(1_100))
    const r = ingest('big.csv', big)
    expect(r.ok ? null : r.reasons[0]).toMatchObject({ rule: 'too-large-for-events', message: expect.stringContaining('MAX_EVENT_BYTES') })
  })

  it('bounds the size of a file\'s events from above without mapping it (the shortcut that skips the exact check)', () => {
    // Values and column names with what JSON escapes most (quotes, backslashes, control characters).
    const text = fc.string({ unit: fc.constantFrom('a', '1', '.', ',', ' ', '"', '\\', '\u0001', '\n', 'é', '€'), maxLength: 30 })
    const columns = ['ISIN', 'Share Class Name', 'NAV Date', 'NAV', 'Currency', 'LEI', 'Net Assets', 'Shares Outstanding', 'Provider Ref']
    fc.assert(
      fc.property(fc.array(fc.tuple(text, text, text, text, text, text, text, text, text), { maxLength: 8 }), fc.array(text, { maxLength: 3 }), (cells, extra) => {
        const header = [...columns, ...extra.map((e, i) => `x${i}${e}`)]
        const rows = cells.map((c) => Object.fromEntries(header.map((h, i) => [h, c[i % c.length] ?? ''])))
        const payload = { fileName: 'x.csv', contentHash: 'h', kind: 'nav' as const, provider: 'northwind', receivedAt: '2026-11-25T07:30:00Z', format: 'csv' as const, encoding: 'utf-8' as const, header, rows, rowCount: rows.length }
        const profile = detectProfile(header, profiles)
        const largest = Math.max(JSON.stringify(payload).length, JSON.stringify(mapFile(payload, profile)).length)
        expect(eventSizeBound(payload)).toBeGreaterThanOrEqual(largest)
      }),
      { numRuns: 300 },
    )
  })

  it('rejects a file whose bytes do not match the size it was sent with', () => {
    const received = { ...receivedEvent('x.csv', Buffer.from('ISIN,NAV\n')).payload, sizeBytes: 100 }
    const r = ingestFile(received, profiles)
    expect(r.ok ? null : r.reasons[0]?.rule).toBe('size-mismatch')
  })

  it('rejects a file that declares an unknown kind or provider', () => {
    const kind = ingest('x.json', Buffer.from(JSON.stringify({ kind: 'trades', rows: [{ isin: 'US0378331005' }] })))
    expect(kind.ok ? null : kind.reasons[0]?.rule).toBe('unknown-kind')
    const provider = ingest('x.json', Buffer.from(JSON.stringify({ provider: 'nobody', rows: [{ isin: 'US0378331005' }] })))
    expect(provider.ok ? null : provider.reasons[0]?.rule).toBe('unknown-provider')
  })
})

describe('configuration errors people can act on', () => {
  it('a bad profile or reference folder fails with a stable code', () => {
    const codeOf = (f: () => unknown) => {
      try {
        f()
      } catch (error) {
        return (['E_MAPPING_PROFILE', 'E_REFERENCE_DATA'] as const).find((c) => hasCode(error, c))
      }
      return undefined
    }
    expect(codeOf(() => loadProfiles('/nonexistent/profiles'))).toBe('E_MAPPING_PROFILE')
    expect(codeOf(() => parseProfile([], 'x.json'))).toBe('E_MAPPING_PROFILE')
    expect(codeOf(() => loadReferenceData('/nonexistent/reference'))).toBe('E_REFERENCE_DATA')
  })
})
