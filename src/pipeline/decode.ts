import iconv from 'iconv-lite'
import type { TextEncoding } from './types.js'

export type Decoded =
  | { readonly ok: true; readonly text: string; readonly encoding: TextEncoding }
  | { readonly ok: false; readonly rule: 'binary-file' | 'nul-bytes'; readonly message: string }

const UTF8 = new TextDecoder('utf-8', { fatal: true })

function startsWith(buf: Uint8Array, ...bytes: number[]): boolean {
  return bytes.every((b, i) => buf[i] === b)
}

/**
 * Decodes a file's bytes: a BOM wins (UTF-8, UTF-16 LE/BE); then strict UTF-8; bytes that are
 * not valid UTF-8 are read as Windows-1252 (a superset of Latin-1's printable range, which is
 * what European spreadsheet exports really are). UTF-16 without a BOM is recognised by its
 * pattern of zero bytes (ASCII text in UTF-16 has a zero in every other byte) and decoded. A few
 * NUL bytes in otherwise readable text are rule `nul-bytes` (with where the first one is); many
 * NULs or control characters mean a binary file.
 */
export function decodeFile(buf: Uint8Array): Decoded {
  if (startsWith(buf, 0xef, 0xbb, 0xbf)) return checkText(utf8(buf.subarray(3)), 'utf-8-bom')
  if (startsWith(buf, 0xff, 0xfe)) return checkText(iconv.decode(Buffer.from(buf.subarray(2)), 'utf16le'), 'utf-16le')
  if (startsWith(buf, 0xfe, 0xff)) return checkText(iconv.decode(Buffer.from(buf.subarray(2)), 'utf16be'), 'utf-16be')
  if (buf.includes(0)) {
    const utf16 = utf16WithoutBom(buf)
    if (utf16 !== null) return checkText(iconv.decode(Buffer.from(buf), utf16), utf16)
    return nulBytes(buf)
  }
  const text = utf8(buf)
  if (text !== null) return checkText(text, 'utf-8')
  return checkText(iconv.decode(Buffer.from(buf), 'win1252'), 'windows-1252')
}

function utf8(buf: Uint8Array): string | null {
  try {
    return UTF8.decode(buf)
  } catch {
    return null
  }
}

function checkText(text: string | null, encoding: TextEncoding): Decoded {
  if (text === null) return { ok: false, rule: 'binary-file', message: `file starts with a ${encoding} byte-order mark but is not valid ${encoding}` }
  let control = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0 || (c < 32 && c !== 9 && c !== 10 && c !== 13)) control++
  }
  // A stray control character happens in real exports; one in a hundred is not text.
  if (control > 0 && control * 100 > text.length) {
    return { ok: false, rule: 'binary-file', message: `file has ${control} control characters in ${text.length}: a binary file, not CSV or JSON` }
  }
  return { ok: true, text, encoding }
}

/** UTF-16 text without a BOM: zero bytes in (nearly) every other position, on one side only. */
function utf16WithoutBom(buf: Uint8Array): 'utf-16le' | 'utf-16be' | null {
  if (buf.length < 4 || buf.length % 2 !== 0) return null
  let evenZeros = 0
  let oddZeros = 0
  for (let i = 0; i < buf.length; i += 2) {
    if (buf[i] === 0) evenZeros++
    if (buf[i + 1] === 0) oddZeros++
  }
  const units = buf.length / 2
  if (oddZeros >= units * 0.9 && evenZeros === 0) return 'utf-16le'
  if (evenZeros >= units * 0.9 && oddZeros === 0) return 'utf-16be'
  return null
}

/** Where the NUL bytes are: a few in readable text are named as such; otherwise it is binary. */
function nulBytes(buf: Uint8Array): Decoded {
  let count = 0
  for (const b of buf) if (b === 0) count++
  const rest = checkText(utf8(buf.filter((b) => b !== 0)) ?? iconv.decode(Buffer.from(buf.filter((b) => b !== 0)), 'win1252'), 'utf-8')
  if (!rest.ok || count * 100 > buf.length) return { ok: false, rule: 'binary-file', message: `file contains ${count} NUL bytes in ${buf.length}: a binary file, not CSV or JSON` }
  const first = buf.indexOf(0)
  let line = 1
  for (let i = 0; i < first; i++) if (buf[i] === 10) line++
  return {
    ok: false,
    rule: 'nul-bytes',
    message: `file contains ${count} NUL byte${count === 1 ? '' : 's'} (the first at byte ${first + 1}, line ${line}), which CSV and JSON text cannot hold: re-export the file`,
  }
}
