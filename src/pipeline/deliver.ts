import { randomBytes } from 'node:crypto'
import { mkdir, rename, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { TransientError } from '../bus/failures.js'
import { errorMessage } from '../errors.js'
import { fundIsinOf } from './enrich.js'
import { instrumentIsinOf } from './resolve.js'
import { isoDay } from './rules/dates.js'
import { EVENT, type DeliveredPayload, type ResolvedPayload, type ScoredPayload } from './types.js'

/** What deliver keeps per file (state `join:<correlationId>`) until both halves have arrived. */
export interface JoinState {
  readonly resolved?: ResolvedPayload
  readonly scored?: ScoredPayload
}

export type JoinStep =
  | { readonly ready: false; readonly state: JoinState }
  | { readonly ready: true; readonly resolved: ResolvedPayload; readonly scored: ScoredPayload }

/**
 * One arrival at the join, as a pure function. Whichever half comes first is stored; the second
 * completes it. A half that arrives again replaces the stored one (same event, same content).
 */
export function joinStep(stored: JoinState | null, type: string, payload: unknown): JoinStep {
  const state: JoinState =
    type === EVENT.resolved
      ? { ...stored, resolved: payload as ResolvedPayload }
      : type === EVENT.scored
        ? { ...stored, scored: payload as ScoredPayload }
        : (() => {
            throw new Error(`deliver cannot join event type ${type}`)
          })()
  if (state.resolved !== undefined && state.scored !== undefined) return { ready: true, resolved: state.resolved, scored: state.scored }
  return { ready: false, state }
}

export interface DeliveryOutput {
  /** `<YYYY-MM-DD>/<kind>/<correlationId>.json`, the day being the file's received day (UTC). */
  readonly relativePath: string
  readonly content: string
  readonly recordCount: number
}

/**
 * The output document. Deterministic: built only from the two events (no wall clock, stable key
 * order), so a retried delivery writes byte-identical content to the same path.
 */
export function buildOutput(correlationId: string, resolved: ResolvedPayload, scored: ScoredPayload): DeliveryOutput {
  if (!/^[A-Za-z0-9._-]+$/.test(correlationId)) throw new Error(`correlation id "${correlationId}" cannot name a file`)
  const relativePath = `${isoDay(new Date(resolved.receivedAt))}/${resolved.kind}/${correlationId}.json`
  const doc = {
    correlationId,
    fileName: resolved.fileName,
    contentHash: resolved.contentHash,
    kind: resolved.kind,
    provider: resolved.provider,
    receivedAt: resolved.receivedAt,
    quality: { score: scored.score, components: scored.components, flags: scored.flags },
    warnings: resolved.warnings,
    unresolved: resolved.unresolved,
    // The output is for people and downstream loaders: each record stands alone.
    records: resolved.records.map((r) => {
      const fund = fundIsinOf(resolved.kind, r.fields)
      const instrument = instrumentIsinOf(r, resolved.kind)
      return {
        row: r.row,
        ...r.fields,
        reference: (fund === null ? undefined : resolved.funds[fund]) ?? null,
        identifiers: (instrument === null ? undefined : resolved.identifiers[instrument]) ?? null,
      }
    }),
  }
  return { relativePath, content: `${JSON.stringify(doc, null, 2)}\n`, recordCount: resolved.records.length }
}

export function deliveredPayload(resolved: ResolvedPayload, scored: ScoredPayload, output: DeliveryOutput): DeliveredPayload {
  return { fileName: resolved.fileName, kind: resolved.kind, outputPath: output.relativePath, recordCount: output.recordCount, score: scored.score }
}

/** Output folders made in this process: a busy deliver writes thousands of files into a few folders, and a mkdir each cost more than the write. */
const madeFolders = new Set<string>()
const MADE_FOLDERS_KEPT = 1_000

async function makeFolder(folder: string): Promise<void> {
  await mkdir(folder, { recursive: true })
  if (madeFolders.size >= MADE_FOLDERS_KEPT) madeFolders.clear()
  madeFolders.add(folder)
}

/**
 * Writes `content` to `outDir/relativePath` atomically: a temp file in the same directory (same
 * file system), then rename, so readers see the old file or the new one, never half of one.
 * `sync` also flushes the file to disk before the rename (survives power loss; costs a few to
 * tens of milliseconds per file). Returns the absolute path.
 */
export async function writeAtomic(outDir: string, relativePath: string, content: string, options: { sync?: boolean } = {}): Promise<string> {
  const target = join(outDir, ...relativePath.split('/'))
  const folder = dirname(target)
  try {
    const temp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
    try {
      if (!madeFolders.has(folder)) await makeFolder(folder)
      await writeFile(temp, content, { flush: options.sync ?? false }).catch(async (error: NodeJS.ErrnoException) => {
        // The folder went away since we made it (removed, or replaced by a file): make it again, once.
        if (error.code !== 'ENOENT' && error.code !== 'ENOTDIR') throw error
        madeFolders.delete(folder)
        await makeFolder(folder)
        await writeFile(temp, content, { flush: options.sync ?? false })
      })
      await rename(temp, target)
    } catch (error) {
      madeFolders.delete(folder)
      await rm(temp, { force: true }).catch(() => {})
      throw error
    }
  } catch (error) {
    throw asTransientIfOutputFault(error, `cannot write the output ${relativePath} under ${outDir}`)
  }
  return target
}

/**
 * File-system errors that say the output place is wrong, not the event: disk full, quota, no
 * permission, read-only, the output folder missing or a plain file where it should be. The
 * same event succeeds once the place is fixed, so they are transient (retried, never
 * dead-lettered, and they open deliver's breaker).
 */
const OUTPUT_FAULTS = new Set(['ENOSPC', 'EDQUOT', 'EACCES', 'EPERM', 'EROFS', 'ENOENT', 'ENOTDIR', 'EEXIST', 'EIO'])

export function asTransientIfOutputFault(error: unknown, what: string): unknown {
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code !== 'string' || !OUTPUT_FAULTS.has(code)) return error
  return new TransientError(`${what}: ${errorMessage(error)}`, { cause: error })
}
