/** Event types of the fund-data pipeline, one stream each. */
export const EVENT = {
  received: 'pipeline.file.received',
  ingested: 'pipeline.file.ingested',
  duplicate: 'pipeline.file.duplicate',
  mapped: 'pipeline.file.mapped',
  validated: 'pipeline.file.validated',
  rejected: 'pipeline.file.rejected',
  enriched: 'pipeline.file.enriched',
  resolved: 'pipeline.file.resolved',
  scored: 'pipeline.file.scored',
  delivered: 'pipeline.file.delivered',
} as const

export type PipelineEventType = (typeof EVENT)[keyof typeof EVENT]

export type FileKind = 'nav' | 'holdings' | 'reference'
export const FILE_KINDS: readonly FileKind[] = ['nav', 'holdings', 'reference']

export type FileFormat = 'csv' | 'json' | 'xml'

/** Fund data standards a mapping profile can follow; validate applies their rules. */
export type FundStandard = 'fundsxml4' | 'emt' | 'ept' | 'openfunds'
export const FUND_STANDARDS: readonly FundStandard[] = ['fundsxml4', 'emt', 'ept', 'openfunds']
export type TextEncoding = 'utf-8' | 'utf-8-bom' | 'utf-16le' | 'utf-16be' | 'windows-1252'

/** One problem found in a file; `row` is the 1-based data row (header excluded), absent for file-level problems. */
export interface Issue {
  readonly row?: number
  readonly column?: string
  readonly value?: string
  readonly rule: string
  readonly message: string
}

export type FieldValue = string | number | null

/**
 * One canonical record as it travels after validation. `fields` holds canonical names (see
 * `FIELD_SPECS`): ISO dates, JS numbers, upper-case codes, null when absent or unparseable.
 */
export interface PipelineRecord {
  readonly row: number
  readonly fields: Readonly<Record<string, FieldValue>>
}

/** A record as map emits it: `raw` keeps the provider's text per canonical field, so validate can quote what was sent. */
export interface CanonicalRecord extends PipelineRecord {
  readonly raw: Readonly<Record<string, string>>
}

/** Fund reference data joined in by enrich. */
export interface FundReference {
  readonly fundName: string
  readonly manager: string
  readonly domicile: string
  readonly assetClass: string
}

/** Instrument identifiers joined in by resolve; '' when the table has none. */
export interface Identifiers {
  readonly cusip: string
  readonly sedol: string
  readonly figi: string
  readonly ticker: string
}

export interface ReceivedPayload {
  readonly fileName: string
  readonly contentBase64: string
  readonly sizeBytes: number
  readonly receivedAt: string
  readonly sourcePath?: string
}

/** What every event after ingest says about the file itself. */
export interface FileFacts {
  readonly fileName: string
  readonly contentHash: string
  readonly kind: FileKind
  readonly provider: string
  readonly receivedAt: string
}

export interface IngestedPayload extends FileFacts {
  readonly format: FileFormat
  readonly encoding: TextEncoding
  readonly header: readonly string[]
  readonly rows: readonly Record<string, string>[]
  readonly rowCount: number
}

export interface DuplicatePayload {
  readonly fileName: string
  readonly contentHash: string
  readonly firstCorrelationId: string
}

export interface MappedPayload extends FileFacts {
  /** The fund data standard of the provider's profile, when it follows one: validate applies its rules. */
  readonly standard?: FundStandard
  readonly rowCount: number
  /** Canonical fields whose column the file has (validate checks mandatory ones against it). */
  readonly mappedFields: readonly string[]
  readonly unmappedColumns: readonly string[]
  readonly records: readonly CanonicalRecord[]
}

/** Records lose `raw` here: warnings already quote the values, and events stay well under the size cap. */
export interface ValidatedPayload extends FileFacts {
  readonly rowCount: number
  readonly records: readonly PipelineRecord[]
  readonly warnings: readonly Issue[]
}

export type RejectStage = 'ingest' | 'map' | 'validate'

export interface RejectedPayload {
  readonly fileName: string
  readonly contentHash: string
  readonly stage: RejectStage
  readonly kind?: FileKind
  readonly reasons: readonly Issue[]
}

/**
 * Reference data is carried once per fund (`funds`, by fund ISIN), not once per record: a
 * holdings file has hundreds of lines of one fund.
 */
export interface EnrichedPayload extends FileFacts {
  readonly rowCount: number
  readonly records: readonly PipelineRecord[]
  readonly funds: Readonly<Record<string, FundReference>>
  readonly warnings: readonly Issue[]
}

/** Identifiers are carried once per instrument ISIN; `unresolved` counts records whose instrument has none. */
export interface ResolvedPayload extends EnrichedPayload {
  readonly identifiers: Readonly<Record<string, Identifiers>>
  readonly unresolved: number
}

export interface ScoreComponents {
  readonly completeness: number
  readonly validity: number
  readonly timeliness: number
  readonly consistency: number
}

export interface ScoreFlag {
  readonly rule: string
  readonly message: string
  readonly row?: number
  readonly isin?: string
}

export interface ScoredPayload extends FileFacts {
  readonly score: number
  readonly components: ScoreComponents
  readonly flags: readonly ScoreFlag[]
}

export interface DeliveredPayload {
  readonly fileName: string
  readonly kind: FileKind
  /** Relative to the output directory, with forward slashes. */
  readonly outputPath: string
  readonly recordCount: number
  readonly score: number
}
