import type { Stats } from 'node:fs'
import { errorMessage } from '../errors.js'
import { MAX_FILE_BYTES } from './parse.js'
import type { Issue } from './types.js'

/**
 * What the inbox refuses before reading a file, and how it words a read or publish that failed:
 * every refusal is a rule name and a message saying what to do, written to `.failed/<name>.reason.txt`
 * as `<rule>: <message>`. A symlink is followed (the target is read; only the link is moved), so
 * a link to a directory or a device is refused like the thing it points at.
 */
export function inboxRefusal(name: string, info: Stats): Issue | null {
  if (info.isDirectory()) {
    return { rule: 'not-a-file', message: `${name} is a directory: the inbox takes files, one by one (move the files inside it, not the folder)` }
  }
  if (!info.isFile()) {
    return { rule: 'not-a-file', message: `${name} is not a regular file (a pipe, socket or device): the inbox reads regular files only` }
  }
  if (info.size > MAX_FILE_BYTES) {
    return { rule: 'file-too-large', value: String(info.size), message: `file is ${info.size} bytes, over the ${MAX_FILE_BYTES}-byte limit (MAX_FILE_BYTES): split it` }
  }
  return null
}

/** A symlink whose target is missing (chokidar never reports one; the inbox looks for them). */
export function danglingRefusal(name: string, target: string): Issue {
  return { rule: 'broken-symlink', value: target, message: `${name} is a symbolic link to ${target}, which does not exist: fix the link, or drop the file itself` }
}

/** A file that could not be read (permissions, vanished, a dangling link). */
export function readRefusal(name: string, error: unknown): Issue {
  const code = (error as { code?: unknown }).code
  if (code === 'EACCES' || code === 'EPERM') {
    return { rule: 'unreadable-file', message: `cannot read ${name}: permission denied (${code}); make it readable (chmod a+r) and drop it in again` }
  }
  if (code === 'ENOENT') return { rule: 'unreadable-file', message: `cannot read ${name}: it is gone, or a symlink to nothing (ENOENT)` }
  return { rule: 'unreadable-file', message: `cannot read ${name}: ${errorMessage(error)}` }
}

/** A publish the bus refused: an event over the cap gets its own rule; anything else is passed on. */
export function publishRefusal(error: unknown): Issue {
  const code = (error as { code?: unknown }).code
  if (code === 'E_EVENT_TOO_LARGE') {
    return { rule: 'event-too-large', message: `${errorMessage(error)}: a file travels base64-encoded in its received event, so about 3 MiB is the most one event carries; split the file` }
  }
  return { rule: 'publish-failed', message: errorMessage(error) }
}

/** The one line a user reads in `.reason.txt`, warnings and intake callbacks. */
export function refusalText(issue: Issue): string {
  return `${issue.rule}: ${issue.message}`
}
