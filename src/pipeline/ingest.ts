import type { NewEvent } from '../bus/index.js'
import { MAX_EVENT_BYTES } from '../events/envelope.js'
import { decodeFile } from './decode.js'
import { detectKind, FIELD_SPECS, isFileKind } from './fields.js'
import { mapFile } from './mapping.js'
import { detectFormat, MAX_FILE_BYTES, parseTable } from './parse.js'
import { defaultProfilesDir } from './paths.js'
import { canonicalName, detectProfile, findProfile, loadProfiles, type MappingProfile } from './profiles.js'
import { contentHash, filePartitionKey } from './intake.js'
import { templateProblems } from './templates.js'
import { parseXmlTable } from './xml.js'
import type { FileKind, IngestedPayload, Issue, ReceivedPayload } from './types.js'

export type IngestResult =
  | { readonly ok: true; readonly payload: IngestedPayload }
  | { readonly ok: false; readonly contentHash: string; readonly reasons: readonly Issue[] }

const ALL_CANONICAL: ReadonlySet<string> = new Set(Object.values(FIELD_SPECS).flatMap((specs) => specs.map((s) => s.name)))

/** Canonical fields a header maps to under a profile (for kind detection). */
export function canonicalColumns(header: readonly string[], profile: MappingProfile): string[] {
  return header.map((h) => canonicalName(h, profile, ALL_CANONICAL)).filter((n): n is string => n !== null)
}

/**
 * Ingest as a pure function: bytes -> decoded text -> table -> provider and kind. Every way a
 * file can be unreadable is a specific issue; dedup is the consumer's job (it needs state).
 */
export function ingestFile(received: ReceivedPayload, profiles: readonly MappingProfile[]): IngestResult {
  const bytes = Buffer.from(received.contentBase64, 'base64')
  const hash = contentHash(bytes)
  const rejectAll = (reasons: readonly Issue[]): IngestResult => ({ ok: false, contentHash: hash, reasons })
  const reject = (issue: Issue): IngestResult => rejectAll([issue])
  if (bytes.byteLength > MAX_FILE_BYTES) {
    return reject({ rule: 'file-too-large', message: `file is ${bytes.byteLength} bytes, over the ${MAX_FILE_BYTES}-byte limit (MAX_FILE_BYTES)` })
  }
  if (bytes.byteLength !== received.sizeBytes) {
    return reject({ rule: 'size-mismatch', value: String(bytes.byteLength), message: `file carries ${bytes.byteLength} bytes but was sent as ${received.sizeBytes}: truncated or corrupted on the way` })
  }
  if (bytes.byteLength === 0) return reject({ rule: 'empty-file', message: 'file is empty (0 bytes)' })
  const decoded = decodeFile(bytes)
  if (!decoded.ok) return reject({ rule: decoded.rule, message: decoded.message })
  const parsed = detectFormat(received.fileName, decoded.text) === 'xml' ? parseXmlTable(decoded.text, profiles) : parseTable(received.fileName, decoded.text)
  if (!parsed.ok) return reject(parsed.issue)
  const table = parsed.table

  let profile: MappingProfile
  if (table.declaredProvider !== undefined) {
    const named = findProfile(table.declaredProvider, profiles)
    if (named === null) {
      return reject({ rule: 'unknown-provider', value: table.declaredProvider, message: `file names provider "${table.declaredProvider}", which has no mapping profile` })
    }
    profile = named
  } else profile = detectProfile(table.header, profiles)
  if (profile.template !== undefined) {
    const problems = templateProblems(table.header, table.rows, profile.template)
    if (problems.length > 0) return rejectAll(problems)
  }

  let kind: FileKind | null
  if (table.declaredKind !== undefined) {
    if (!isFileKind(table.declaredKind)) {
      return reject({ rule: 'unknown-kind', value: table.declaredKind, message: `file declares kind "${table.declaredKind}"; expected nav, holdings or reference` })
    }
    kind = table.declaredKind
  } else kind = detectKind(canonicalColumns(table.header, profile))
  if (kind === null) {
    return reject({
      rule: 'unknown-kind',
      value: table.header.join(','),
      message: `cannot tell whether this is a NAV, holdings or reference file from its columns (${table.header.join(', ')}) under provider "${profile.provider}"`,
    })
  }
  const payload: IngestedPayload = {
    fileName: received.fileName,
    contentHash: hash,
    kind,
    provider: profile.provider,
    receivedAt: received.receivedAt,
    format: table.format,
    encoding: decoded.encoding,
    header: table.header,
    rows: table.rows,
    rowCount: table.rows.length,
  }
  const tooLarge = eventSizeProblem(payload, profile)
  return tooLarge === null ? { ok: true, payload } : reject(tooLarge)
}

/** Room left in an event for the envelope's other fields. */
const ENVELOPE_HEADROOM = 64 * 1024

/**
 * Events carry the file's records, and the bus refuses events over `MAX_EVENT_BYTES`. The
 * largest event a file becomes is `mapped` (records plus the raw text), so ingest maps the file
 * once to measure it: a file that cannot travel is rejected here, with its reason, rather than
 * dead-lettered at a later stage. In practice this caps CSV files near 1 MiB.
 */
export function eventSizeProblem(payload: IngestedPayload, profile: MappingProfile): Issue | null {
  const budget = MAX_EVENT_BYTES - ENVELOPE_HEADROOM
  // Most files are far below the cap: a bound that needs no mapping and no JSON says so.
  if (eventSizeBound(payload) <= budget) return null
  const largest = Math.max(JSON.stringify(payload).length, JSON.stringify(mapFile(payload, profile)).length)
  if (largest <= budget) return null
  return {
    rule: 'too-large-for-events',
    value: String(largest),
    message: `the file's records take ${largest} characters as an event, over the ${budget} the ${MAX_EVENT_BYTES}-byte event cap (MAX_EVENT_BYTES) leaves: split the file`,
  }
}

/** Longest canonical field name (mapped records are keyed by these), and most fields of a kind. */
const LONGEST_CANONICAL = Math.max(...[...ALL_CANONICAL].map((n) => n.length))
const MOST_SPECS = Math.max(...Object.values(FIELD_SPECS).map((specs) => specs.length))

/**
 * An upper bound of the characters the larger of the file's two events takes (ingested, and
 * mapped: see eventSizeProblem), from sizes alone. JSON escapes a character into at most 6, so
 * a string of n characters takes at most 6n + 2. A mapped record has every field of its kind
 * (a number or date at most 26 characters, null 4) and the raw value of each mapped column,
 * each under a canonical key; an ingested row has each value under its column's name. Per row
 * and per file a fixed allowance covers row numbers, braces and the payload's small fields.
 */
export function eventSizeBound(payload: IngestedPayload): number {
  const canonicalKey = 6 * LONGEST_CANONICAL + 6
  let headerChars = 0
  let longestColumn = 0
  for (const h of payload.header) {
    headerChars += h.length
    if (h.length > longestColumn) longestColumn = h.length
  }
  let cells = 0
  let valueChars = 0
  for (const row of payload.rows) {
    for (const key in row) {
      cells++
      valueChars += (row[key] as string).length
    }
  }
  const rows = payload.rows.length
  const fixed = 64 * (rows + 1) + 16 * 1024 + 3 * (6 * headerChars + 4 * payload.header.length)
  const ingested = cells * (6 * longestColumn + 6) + 6 * valueChars + 2 * cells + fixed
  const mapped = rows * MOST_SPECS * (canonicalKey + 26) + cells * (canonicalKey + 2) + 12 * valueChars + 2 * cells + MOST_SPECS * canonicalKey + fixed
  return Math.max(ingested, mapped)
}

let shipped: readonly MappingProfile[] | undefined

/**
 * A received event as a bus of `partitionCount` partitions takes it: with partitions, routed as
 * ingest routes what follows it (filePartitionKey of what ingest finds with the shipped
 * profiles), which parses the file once more at intake; with one, as it is (no cost).
 */
export function routedReceived(event: NewEvent<ReceivedPayload>, partitionCount: number, profiles?: readonly MappingProfile[]): NewEvent<ReceivedPayload> {
  if (partitionCount === 1) return event
  const result = ingestFile(event.payload, profiles ?? (shipped ??= loadProfiles(defaultProfilesDir())))
  return { ...event, partitionKey: filePartitionKey(result.ok ? result.payload : result) }
}
