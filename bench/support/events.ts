/** The synthetic events every contender carries: small flat header fields and a ~200-byte payload. */

export interface BenchEvent {
  readonly type: string
  readonly key: string
  readonly payload: Record<string, unknown>
}

const CURRENCIES = ['EUR', 'USD', 'GBP', 'CHF'] as const

/** Per-key order matters in eventspine, so keys repeat (2,000 share classes), as they would. */
export function benchEvent(i: number, type: string): BenchEvent {
  const shareClass = `LU${String(1_000_000_000 + (i % 2000)).padStart(10, '0')}`
  return {
    type,
    key: shareClass,
    payload: {
      fundId: `FUND-${String(i % 500).padStart(5, '0')}`,
      shareClass,
      navDate: '2026-11-24',
      nav: 100 + (i % 9973) / 100,
      currency: CURRENCIES[i % CURRENCIES.length],
      sharesOutstanding: 1_000_000 + i,
      totalNetAssets: 98_765_432.1 + i,
      file: `nav_${i % 200}.csv`,
      row: i,
    },
  }
}

/** The same event with every envelope header, as the raw and BullMQ chains carry it. */
export function benchEnvelope(i: number, type: string, now: string) {
  const event = benchEvent(i, type)
  return {
    id: `0193a5c4-${hex(i, 4)}-7000-8000-${hex(i, 12)}`,
    type: event.type,
    version: 1,
    source: 'bench',
    occurredAt: now,
    correlationId: `0193a5c4-${hex(i, 4)}-7001-8000-${hex(i, 12)}`,
    causationId: '',
    key: event.key,
    payload: event.payload,
  }
}

/** The envelope as flat stream fields, as eventspine stores it (payload as JSON). */
export function benchFields(i: number, type: string, now: string): string[] {
  const e = benchEnvelope(i, type, now)
  return [
    'id', e.id,
    'type', e.type,
    'version', String(e.version),
    'source', e.source,
    'occurredAt', e.occurredAt,
    'correlationId', e.correlationId,
    'causationId', e.causationId,
    'key', e.key,
    'payload', JSON.stringify(e.payload),
  ]
}

function hex(n: number, width: number): string {
  return (n % 16 ** width).toString(16).padStart(width, '0')
}
