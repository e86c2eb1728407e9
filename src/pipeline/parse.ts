import { parse } from 'csv-parse/sync'
import type { FileFormat, Issue } from './types.js'

/** Largest file accepted by ingest: 16 MiB. Larger files are rejected with rule `file-too-large`. */
export const MAX_FILE_BYTES = 16 * 1024 * 1024
/** Largest single CSV record (characters): 64 KiB. Larger ones are rejected with rule `row-too-large`. */
export const MAX_ROW_BYTES = 64 * 1024
/** Most data rows in one file: 100,000. More are rejected with rule `too-many-rows`. */
export const MAX_ROWS = 100_000
/** Deepest nesting of arrays and objects in a JSON file: 64. Deeper is rejected with rule `json-too-deep`. */
export const MAX_JSON_DEPTH = 64

export interface ParsedTable {
  readonly format: FileFormat
  readonly header: readonly string[]
  readonly rows: readonly Record<string, string>[]
  /** Set when the file says what it is (JSON `kind`). */
  readonly declaredKind?: string
  /** Set when the file names its provider (JSON `provider`). */
  readonly declaredProvider?: string
  readonly delimiter?: string
}

export type ParseResult = { readonly ok: true; readonly table: ParsedTable } | { readonly ok: false; readonly issue: Issue }

const fail = (rule: string, message: string): ParseResult => ({ ok: false, issue: { rule, message } })

/** What the name says (.json, .csv/.txt, .xml), else what the text opens with (`<` XML, `[` or `{` JSON); CSV otherwise. */
export function detectFormat(fileName: string, text: string): FileFormat {
  if (/\.json$/i.test(fileName)) return 'json'
  if (/\.(csv|txt)$/i.test(fileName)) return 'csv'
  if (/\.xml$/i.test(fileName) || /^\s*</.test(text)) return 'xml'
  return /^\s*[[{]/.test(text) ? 'json' : 'csv'
}

/** The delimiter used most in the header line, counting only outside quotes: `,`, `;` or tab. */
export function detectDelimiter(text: string): string {
  const counts = new Map<string, number>([[',', 0], [';', 0], ['\t', 0]])
  let quoted = false
  for (const ch of text) {
    if (ch === '"') quoted = !quoted
    else if (!quoted && (ch === '\n' || ch === '\r')) break
    else if (!quoted && counts.has(ch)) counts.set(ch, (counts.get(ch) ?? 0) + 1)
  }
  let best = ','
  for (const [d, n] of counts) if (n > (counts.get(best) ?? 0)) best = d
  return best
}

/** Parses decoded text into a header and string rows; every problem becomes one specific issue. */
export function parseTable(fileName: string, text: string): ParseResult {
  if (text.trim() === '') return fail('empty-file', 'file is empty (no header, no rows)')
  return detectFormat(fileName, text) === 'json' ? parseJson(text) : parseCsv(text)
}

function parseCsv(text: string): ParseResult {
  const delimiter = detectDelimiter(text)
  let records: string[][]
  try {
    records = parse(text, {
      delimiter,
      skip_empty_lines: true,
      trim: true,
      max_record_size: MAX_ROW_BYTES,
      to: MAX_ROWS + 2, // header + limit + 1: enough to know the limit is passed, without reading on
    }) as string[][]
  } catch (error) {
    const code = (error as { code?: string }).code
    const message = error instanceof Error ? error.message : String(error)
    if (code === 'CSV_MAX_RECORD_SIZE') return fail('row-too-large', `a row is longer than the ${MAX_ROW_BYTES}-character row limit (MAX_ROW_BYTES)`)
    return fail('csv-syntax', `not valid CSV: ${message}`)
  }
  const [header, ...body] = records
  if (header === undefined) return fail('empty-file', 'file is empty (no header, no rows)')
  const problem = headerProblem(header)
  if (problem !== null) return { ok: false, issue: problem }
  if (body.length > MAX_ROWS) return fail('too-many-rows', `file has more than ${MAX_ROWS} rows (MAX_ROWS)`)
  if (body.length === 0) return fail('no-rows', 'file has a header but no data rows')
  const rows = body.map((cells) => Object.fromEntries(header.map((h, i) => [h, cells[i] ?? ''])))
  return { ok: true, table: { format: 'csv', header, rows, delimiter } }
}

function headerProblem(header: readonly string[]): Issue | null {
  const seen = new Set<string>()
  for (const [i, name] of header.entries()) {
    if (name === '') return { rule: 'csv-header', column: String(i + 1), message: `header column ${i + 1} has no name` }
    const key = name.toLowerCase()
    if (seen.has(key)) return { rule: 'duplicate-column', column: name, message: `column "${name}" appears twice in the header` }
    seen.add(key)
  }
  return null
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return ''
  return typeof value === 'object' ? JSON.stringify(value) : String(value)
}

/**
 * The nesting depth of JSON text, counted without recursion (strings skipped), stopping at
 * `limit + 1`: 100,000 nested arrays cost one pass, not a stack overflow later on.
 */
export function jsonDepth(text: string, limit = MAX_JSON_DEPTH): number {
  let depth = 0
  let deepest = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92) i++ // backslash: skip the escaped character
      else if (c === 34) inString = false
    } else if (c === 34) inString = true
    else if (c === 91 || c === 123) {
      depth++
      if (depth > deepest) deepest = depth
      if (deepest > limit) return deepest
    } else if (c === 93 || c === 125) depth--
  }
  return deepest
}

function parseJson(text: string): ParseResult {
  if (jsonDepth(text) > MAX_JSON_DEPTH) {
    return fail('json-too-deep', `JSON nests arrays or objects more than ${MAX_JSON_DEPTH} levels deep (MAX_JSON_DEPTH); rows are flat objects`)
  }
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (error) {
    return fail('json-syntax', `not valid JSON: ${error instanceof Error ? error.message : String(error)}`)
  }
  let rows: unknown
  let kind: string | undefined
  let provider: string | undefined
  if (Array.isArray(doc)) rows = doc
  else if (typeof doc === 'object' && doc !== null && Array.isArray((doc as { rows?: unknown }).rows)) {
    const d = doc as { rows: unknown; kind?: unknown; provider?: unknown }
    rows = d.rows
    if (typeof d.kind === 'string') kind = d.kind
    if (typeof d.provider === 'string') provider = d.provider
  } else return fail('json-shape', 'JSON must be an array of row objects or an object with a "rows" array')
  const list = rows as unknown[]
  if (list.length === 0) return fail('no-rows', 'JSON file has no rows')
  if (list.length > MAX_ROWS) return fail('too-many-rows', `file has more than ${MAX_ROWS} rows (MAX_ROWS)`)
  const header: string[] = []
  const seen = new Set<string>()
  const out: Record<string, string>[] = []
  for (const [i, row] of list.entries()) {
    if (typeof row !== 'object' || row === null || Array.isArray(row)) {
      return { ok: false, issue: { row: i + 1, rule: 'json-shape', message: `row ${i + 1} is not an object` } }
    }
    const record: Record<string, string> = {}
    for (const [k, v] of Object.entries(row)) {
      if (!seen.has(k)) {
        seen.add(k)
        header.push(k)
      }
      record[k] = cell(v).trim()
    }
    if (JSON.stringify(record).length > MAX_ROW_BYTES) {
      return { ok: false, issue: { row: i + 1, rule: 'row-too-large', message: `row ${i + 1} is longer than the ${MAX_ROW_BYTES}-character row limit (MAX_ROW_BYTES)` } }
    }
    out.push(record)
  }
  const rowsFilled = out.map((r) => Object.fromEntries(header.map((h) => [h, r[h] ?? ''])))
  return {
    ok: true,
    table: { format: 'json', header, rows: rowsFilled, ...(kind === undefined ? {} : { declaredKind: kind }), ...(provider === undefined ? {} : { declaredProvider: provider }) },
  }
}
