import { entryTime } from '../../bus/entry-ids.js'
import { summarizePayload, type TailItem } from '../../pipeline/inspect/index.js'
import { terminalSafe as safe } from '../safe-text.js'

export type Paint = (code: number, text: string) => string

/** ANSI colours only for a terminal, and never with NO_COLOR set (https://no-color.org). */
export function colorEnabled(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false
  return stream.isTTY === true
}

export function painter(color: boolean): Paint {
  return color ? (code, text) => `\u001b[${code}m${text}\u001b[39m` : (_code, text) => text
}

const GREY = 90
const RED = 31
const GREEN = 32
const YELLOW = 33
const BLUE = 34
const MAGENTA = 35
const CYAN = 36
const PALETTE = [CYAN, BLUE, MAGENTA, YELLOW, GREEN]

/** Ends of a type that mean trouble or success get fixed colours; others a stable one by name. */
function typeColor(type: string): number {
  if (/(rejected|failed|dead|error)$/.test(type)) return RED
  if (/(delivered|completed)$/.test(type)) return GREEN
  if (/duplicate$/.test(type)) return YELLOW
  let h = 0
  for (let i = 0; i < type.length; i++) h = (h * 31 + type.charCodeAt(i)) >>> 0
  return PALETTE[h % PALETTE.length] as number
}

/** `HH:MM:SS.mmm` UTC of the entry id: when Redis appended it. */
export function clock(entryId: string): string {
  const t = entryTime(entryId)
  return Number.isFinite(t) ? new Date(t).toISOString().slice(11, 23) : '??:??:??.???'
}

/** Characters of a correlation id that `tail` shows. */
const SHORT_ID_LENGTH = 8

/**
 * The last 8 characters of an id: random in a UUIDv7, so they tell files apart (the first 8
 * are its timestamp, the same for files of the same minute). `trace` takes them as they are.
 */
export function shortId(id: string): string {
  return id.length > SHORT_ID_LENGTH ? id.slice(-SHORT_ID_LENGTH) : id
}

function shortKey(key: string): string {
  return key.length > 16 ? `${key.slice(0, 15)}…` : key
}

/** One line per event: time, type, key, short correlation id, source, payload summary. */
export function formatLine(item: TailItem, paint: Paint): string {
  const time = paint(GREY, clock(item.entryId))
  if (item.event === null) return `${time} ${paint(RED, safe(item.type))} ${safe(item.entryId)} ${paint(RED, `unreadable: ${safe(item.error ?? 'not an event')}`)}`
  const e = item.event
  return [
    time,
    paint(typeColor(e.type), safe(e.type).padEnd(24)),
    safe(shortKey(e.key)).padEnd(16),
    paint(GREY, safe(shortId(e.correlationId))),
    paint(GREY, safe(e.source).padEnd(10)),
    safe(summarizePayload(e.payload, 60)),
  ].join(' ').trimEnd()
}

/**
 * One JSON object per line, for jq: the entry id, then the event as stored (payload decoded).
 * JSON.stringify escapes C0 controls only; DEL, C1 and bidi controls get the same JSON escape.
 */
export function formatNdjson(item: TailItem): string {
  if (item.event === null) return safe(JSON.stringify({ entryId: item.entryId, type: item.type, error: item.error ?? 'not an event' }))
  return safe(JSON.stringify({ entryId: item.entryId, ...item.event }))
}

export interface TailPrinter {
  /** Writes one item; false once the output has gone away (a closed pipe): stop tailing. */
  print(item: TailItem): boolean
}

/** Prints to a stream; an EPIPE (`pipeline tail | head`) ends the tail instead of crashing. */
export function tailPrinter(out: NodeJS.WritableStream, options: { ndjson: boolean; color: boolean; onClosed?: () => void }): TailPrinter {
  const paint = painter(options.color && !options.ndjson)
  let open = true
  out.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error
    open = false
    options.onClosed?.()
  })
  return {
    print(item) {
      if (!open) return false
      out.write(`${options.ndjson ? formatNdjson(item) : formatLine(item, paint)}\n`)
      return open
    },
  }
}

/** What the tail follows, on stderr so `--ndjson` stays clean: "following 10 streams from now (Ctrl-C stops)". */
export function startLine(start: { readonly position: string; readonly types: readonly string[]; readonly partitions?: number }, since: string | undefined): string {
  const streams = start.types.length === 0 ? 'no streams yet (new ones are picked up as they appear)' : `${start.types.length} stream${start.types.length === 1 ? '' : 's'}`
  // Entries of two partitions come from different streams: only their times order them.
  const partitions = (start.partitions ?? 1) > 1 ? ` in ${start.partitions} partitions (merged by entry time)` : ''
  return `following ${streams}${partitions} from ${since === undefined ? 'now' : `${clock(start.position)} UTC (--since ${since})`}; Ctrl-C stops`
}
