import iconv from 'iconv-lite'
import type { TextEncoding } from './types.js'

export type Decoded =
  | { readonly ok: true; readonly text: string; readonly encoding: TextEncoding }
  | { readonly ok: false; readonly rule: 'binary-file'; readonly message: string }

const UTF8 = new TextDecoder('utf-8', { fatal: true })

function startsWith(buf: Uint8Array, ...bytes: number[]): boolean {
  return bytes.every((b, i) => buf[i] === b)
}

/**
 * Decodes a file's bytes: a BOM wins (UTF-8, UTF-16 LE/BE); then strict UTF-8; bytes that are
 * not valid UTF-8 are read as Windows-1252 (a superset of Latin-1's printable range, which is
 * what European spreadsheet exports really are). NUL bytes without a UTF-16 BOM, or many
 * control characters, mean a binary file.
 */
export function decodeFile(buf: Uint8Array): Decoded {
  if (startsWith(buf, 0xef, 0xbb, 0xbf)) return checkText(utf8(buf.subarray(3)), 'utf-8-bom')
  if (startsWith(buf, 0xff, 0xfe)) return checkText(iconv.decode(Buffer.from(buf.subarray(2)), 'utf16le'), 'utf-16le')
  if (startsWith(buf, 0xfe, 0xff)) return checkText(iconv.decode(Buffer.from(buf.subarray(2)), 'utf16be'), 'utf-16be')
  if (buf.includes(0)) return { ok: false, rule: 'binary-file', message: 'file contains NUL bytes: a binary file, not CSV or JSON' }
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
