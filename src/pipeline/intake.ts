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
