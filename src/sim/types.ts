import type { FileKind } from '../pipeline/types.js'

/** Every fault the generator can inject, each with its own name in the manifest. */
export const FAULT_KINDS = [
  'malformed-row',
  'bad-check-digit',
  'missing-mandatory-column',
  'unknown-currency',
  'nav-jump',
  'duplicate-file',
  'late-file',
  'empty-file',
  'latin1-encoding',
  'byte-order-mark',
  'oversized-row',
  // Faults of the fund standards' senders
  'xml-malformed',
  'xml-namespace',
  'emt-missing-field',
  'code-list-value',
  'net-assets-sum',
  'nav-shares-off',
] as const

export type FaultKind = (typeof FAULT_KINDS)[number]

export function isFaultKind(value: string): value is FaultKind {
  return (FAULT_KINDS as readonly string[]).includes(value)
}

export type ProviderName = 'northwind' | 'lumen' | 'atlas' | 'fundsxml' | 'emt' | 'openfunds'
/** The three CSV layouts and the senders of FundsXML 4, the EMT and openfunds files. */
export const PROVIDERS: readonly ProviderName[] = ['northwind', 'lumen', 'atlas', 'fundsxml', 'emt', 'openfunds']

export function isProviderName(value: string): value is ProviderName {
  return (PROVIDERS as readonly string[]).includes(value)
}

/** The kinds each sender's format carries: a FundsXML sender sends NAVs and positions, an EMT sender reference rows, an openfunds sender NAVs. */
export const PROVIDER_KINDS: Readonly<Record<ProviderName, readonly FileKind[]>> = {
  northwind: ['nav', 'holdings', 'reference'],
  lumen: ['nav', 'holdings', 'reference'],
  atlas: ['nav', 'holdings', 'reference'],
  fundsxml: ['nav', 'holdings'],
  emt: ['reference'],
  openfunds: ['nav'],
}

/**
 * What the pipeline should do with a file. `rules` are the distinct rule names of the
 * rejection reasons, sorted; `flags` the distinct quality flags (nav-jump, stale-data), sorted.
 */
export type Expected =
  | { readonly outcome: 'delivered'; readonly flags: readonly string[] }
  | { readonly outcome: 'rejected'; readonly stage: 'ingest' | 'map' | 'validate'; readonly rules: readonly string[] }
  | { readonly outcome: 'duplicate'; readonly of: string }

export interface ManifestFile {
  /** File name inside the day's `inbox/`. */
  readonly name: string
  /** Arrival time, in ms after midnight UTC of the day. */
  readonly arrivalMs: number
  readonly kind: FileKind
  readonly provider: ProviderName
  readonly rows: number
  readonly bytes: number
  readonly faults: readonly FaultKind[]
  readonly expected: Expected
  /** Events processing this file emits in all (received included). */
  readonly events: number
}

export interface Manifest {
  readonly version: 1
  readonly seed: number
  /** The business day, `YYYY-MM-DD`. */
  readonly date: string
  readonly eventsPerDay: number
  readonly faultRate: number
  readonly kinds: readonly FileKind[]
  /** The senders the day's funds were drawn from (absent in days written before there was a choice: the three layouts). */
  readonly providers?: readonly ProviderName[]
  /** Sum of `events` over the files: what processing the whole day emits. */
  readonly expectedEvents: number
  /** Reference tables for enrich and resolve, relative to the day's folder. */
  readonly referenceDir: string
  readonly inboxDir: string
  /** In arrival order. */
  readonly files: readonly ManifestFile[]
}

/** Events a file emits, by how it ends: each stage it passes emits one. */
export function eventsFor(expected: Expected): number {
  switch (expected.outcome) {
    case 'delivered':
      return 8 // received, ingested, mapped, validated, enriched, resolved, scored, delivered
    case 'duplicate':
      return 2 // received, duplicate
    case 'rejected':
      return expected.stage === 'ingest' ? 2 : expected.stage === 'map' ? 3 : 4
  }
}
