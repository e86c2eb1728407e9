import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { keysFor, type Bus } from '../../src/bus/index.js'
import type { CorrelationId, EventEnvelope, EventId } from '../../src/events/index.js'
import { compareEntryIds } from '../../src/bus/entry-ids.js'
import { globToRegExp, startPosition, summarizePayload, typeMatcher, type TailItem } from '../../src/pipeline/inspect/index.js'
import { colorEnabled, formatLine, formatNdjson, painter, tailPrinter } from '../../src/ui/tail/format.js'

const bus = { keys: keysFor('pipeline') } as Bus
const NOW = Date.UTC(2026, 10, 25, 12, 0, 0)

const item: TailItem = {
  type: 'pipeline.file.rejected',
  entryId: `${NOW}-3`,
  event: {
    id: '0193aaaa-0000-7000-8000-000000000001' as EventId,
    type: 'pipeline.file.rejected',
    version: 1,
    source: 'validate',
    occurredAt: new Date(NOW).toISOString(),
    correlationId: '0193bbbb-1111-7000-8000-000000000002' as CorrelationId,
    causationId: '',
    key: '0193bbbb-1111-7000-8000-000000000002',
    payload: { fileName: 'nav.csv', stage: 'validate', contentHash: 'ab'.repeat(32), reasons: [{ rule: 'isin' }, { rule: 'nav' }] },
  },
}

describe('tail: choosing streams', () => {
  it('globs match whole type names; dots are literal', () => {
    expect(globToRegExp('pipeline.file.*').test('pipeline.file.scored')).toBe(true)
    expect(globToRegExp('pipeline.file.*').test('pipelineXfile.scored')).toBe(false)
    expect(globToRegExp('*.rejected').test('pipeline.file.rejected')).toBe(true)
    expect(globToRegExp('pipeline.file.?apped').test('pipeline.file.mapped')).toBe(true)
    expect(globToRegExp('pipeline.file').test('pipeline.file.mapped')).toBe(false)
  })

  it('--stream takes a type or a full stream key; exact names are read even before they exist', () => {
    const m = typeMatcher(bus, ['{pipeline}:stream:pipeline.file.scored', 'pipeline.file.re*'])
    expect(m.exact).toEqual(['pipeline.file.scored'])
    expect(m.matches('pipeline.file.scored')).toBe(true)
    expect(m.matches('pipeline.file.rejected')).toBe(true)
    expect(m.matches('pipeline.file.mapped')).toBe(false)
    expect(typeMatcher(bus, []).matches('anything')).toBe(true)
  })
})

describe('tail: where to start', () => {
  it('from now by default, a duration back on Redis time, or an entry id inclusive', () => {
    expect(startPosition(undefined, NOW)).toBe(`${NOW}-0`)
    expect(startPosition('10m', NOW)).toBe(`${NOW - 600_000}-0`)
    expect(startPosition('1732540000000-5', NOW)).toBe('1732540000000-4')
    expect(startPosition('1732540000000-0', NOW)).toBe('1732539999999-18446744073709551615')
    expect(startPosition('1732540000000', NOW)).toBe('1732539999999-18446744073709551615')
    expect(() => startPosition('yesterday-ish', NOW)).toThrow(/neither a duration nor a stream entry id/)
  })

  it('orders entry ids numerically, not as text', () => {
    expect(compareEntryIds('999-0', '1000-0')).toBeLessThan(0)
    expect(compareEntryIds('1000-10', '1000-9')).toBeGreaterThan(0)
    expect(compareEntryIds('1000-1', '1000-1')).toBe(0)
  })
})

describe('tail: lines', () => {
  it('one line: time, type, key, short correlation id, source, summary; no colour codes when off', () => {
    const line = formatLine(item, painter(false))
    expect(line).toBe(
      '12:00:00.000 pipeline.file.rejected   0193bbbb-1111-7… 00000002 validate   fileName=nav.csv stage=validate reasons=2',
    )
    expect(line).not.toContain('\u001b[')
    expect(formatLine(item, painter(true))).toContain('\u001b[31mpipeline.file.rejected')
  })

  it('the short correlation id is the random end of a UUIDv7, not its timestamp: files of one moment differ', () => {
    const other = { ...item, event: { ...(item.event as EventEnvelope), correlationId: '0193bbbb-1111-7000-8000-00000000beef' as CorrelationId } }
    expect(formatLine(other, painter(false))).toContain(' 0000beef validate')
    expect(formatLine(item, painter(false))).not.toContain('0193bbbb validate')
  })

  it('summaries leave file contents out and stay short', () => {
    expect(summarizePayload({ fileName: 'a.csv', contentBase64: 'x'.repeat(5000), sizeBytes: 5000 })).toBe('fileName=a.csv sizeBytes=5000')
    expect(summarizePayload({ note: 'y'.repeat(500) }, 30).length).toBeLessThanOrEqual(30)
  })

  it('ndjson is the entry id plus the envelope, payload decoded', () => {
    const parsed = JSON.parse(formatNdjson(item)) as Record<string, unknown>
    expect(parsed).toMatchObject({ entryId: item.entryId, type: 'pipeline.file.rejected', correlationId: item.event?.correlationId })
    expect((parsed['payload'] as { reasons: unknown[] }).reasons).toHaveLength(2)
    expect(JSON.parse(formatNdjson({ type: 'x', entryId: '1-0', event: null, error: 'no "id" field' }))).toEqual({ entryId: '1-0', type: 'x', error: 'no "id" field' })
  })

  it('colour only on a terminal, and never with NO_COLOR', () => {
    expect(colorEnabled({ isTTY: true }, {})).toBe(true)
    expect(colorEnabled({ isTTY: false }, {})).toBe(false)
    expect(colorEnabled({}, {})).toBe(false)
    expect(colorEnabled({ isTTY: true }, { NO_COLOR: '1' })).toBe(false)
  })

  it('a closed pipe stops the printer instead of crashing', () => {
    const out = new PassThrough()
    let closed = false
    const printer = tailPrinter(out, { ndjson: true, color: true, onClosed: () => (closed = true) })
    expect(printer.print(item)).toBe(true)
    out.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }))
    expect(closed).toBe(true)
    expect(printer.print(item)).toBe(false)
  })
})
