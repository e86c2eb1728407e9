import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { isPidAlive } from '../../redis/managed.js'

/** What `.pipeline/up.json` says about the `pipeline up` running for a project. */
export interface UpRecord {
  readonly pid: number
  readonly startedAt: string
  readonly namespace: string
  /** Redis URL with any password masked. */
  readonly redis: string
  readonly redisSource: string
  readonly inbox: string
  readonly outDir: string
  readonly http: string | null
  /** The console's URL with this run's token (absent in records of older versions). The file is the user's own (0600). */
  readonly console?: string | null
  /** Set when it runs in the background (`--detach`). */
  readonly logPath: string | null
}

export function upPaths(projectDir: string): { dir: string; record: string; log: string } {
  const dir = join(resolve(projectDir), '.pipeline')
  return { dir, record: join(dir, 'up.json'), log: join(dir, 'up.log') }
}

export function readUpRecord(projectDir: string): UpRecord | undefined {
  try {
    const value = JSON.parse(readFileSync(upPaths(projectDir).record, 'utf8')) as Partial<UpRecord>
    return typeof value.pid === 'number' ? (value as UpRecord) : undefined
  } catch {
    return undefined
  }
}

/** The record of a `pipeline up` whose process is still alive; a stale record is removed. */
export function findLiveUp(projectDir: string): UpRecord | undefined {
  const record = readUpRecord(projectDir)
  if (record === undefined) return undefined
  if (isPidAlive(record.pid)) return record
  rmSync(upPaths(projectDir).record, { force: true })
  return undefined
}

export function writeUpRecord(projectDir: string, record: UpRecord): void {
  const paths = upPaths(projectDir)
  mkdirSync(paths.dir, { recursive: true })
  const temp = `${paths.record}.${process.pid}.tmp`
  // 0600: the record holds the console's token.
  writeFileSync(temp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 })
  renameSync(temp, paths.record)
}

/** Removes the record only if it is still ours (another `up` may have replaced it). */
export function removeUpRecord(projectDir: string, pid: number): void {
  if (readUpRecord(projectDir)?.pid === pid) rmSync(upPaths(projectDir).record, { force: true })
}
