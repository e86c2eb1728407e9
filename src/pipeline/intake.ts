import { createHash } from 'node:crypto'
import type { NewEvent } from '../bus/index.js'
import { EVENT, type ReceivedPayload } from './types.js'

/** SHA-256 of the file's bytes, lower-case hex: the file's identity for dedup. */
export function contentHash(content: Uint8Array): string {
  return createHash('sha256').update(content).digest('hex')
}

export interface ReceivedOptions {
  /** When the file arrived; default now. */
  readonly receivedAt?: Date
  /** Where it was read from (inbox path), for people reading the journey. */
  readonly sourcePath?: string
}

/**
 * The `pipeline.file.received` event for a file, keyed by content hash so two copies of one file
 * are handled in order and the second is seen as a duplicate. The bus assigns the correlation id.
 */
export function receivedEvent(fileName: string, content: Uint8Array, options: ReceivedOptions = {}): NewEvent<ReceivedPayload> {
  const payload: ReceivedPayload = {
    fileName,
    contentBase64: Buffer.from(content).toString('base64'),
    sizeBytes: content.byteLength,
    receivedAt: (options.receivedAt ?? new Date()).toISOString(),
    ...(options.sourcePath === undefined ? {} : { sourcePath: options.sourcePath }),
  }
  return { type: EVENT.received, key: contentHash(content), payload }
}

/**
 * The partition key of a file's events: its provider (as ingest finds it), else its content hash.
 * A provider's files share a partition from received to delivered: score compares a fund's NAV
 * with the one before it, copies of one file meet in ingest's copy check, and a file's journey
 * and correlation index stay in one partition, so no fund emit crosses partitions. (The
 * correlation id would split the first two.)
 */
export function filePartitionKey(file: { readonly provider?: string; readonly contentHash: string }): string {
  return file.provider ?? file.contentHash
}
