import { setTimeout as sleep } from 'node:timers/promises'
import { partitionBus, type Bus } from '../bus/bus.js'
import { readIndexRows } from '../bus/correlation.js'
import { decodeEvent } from '../events/envelope.js'
import { FUND_ENDINGS } from './source.js'
import { EVENT, type Issue } from './types.js'

/** How a file's journey ended: what `publish --wait` prints and `GET /files/:id?wait=` waits for. */
export type FileEnding =
  | { readonly outcome: 'delivered'; readonly fileName: string; readonly outputPath: string }
  | { readonly outcome: 'rejected'; readonly fileName: string; readonly stage: string; readonly reasons: readonly Issue[] }
  | { readonly outcome: 'duplicate'; readonly fileName: string; readonly firstCorrelationId: string }

const ENDINGS: ReadonlySet<string> = new Set(FUND_ENDINGS)

/**
 * The file's ending, or null while it has none. Reads the correlation index's rows (no payloads)
 * (of every partition) and then only the ending's entry, in its partition, so polling a file with
 * a large `received` event stays cheap.
 */
export async function readEnding(bus: Bus, correlationId: string): Promise<FileEnding | null> {
  const row = (await readIndexRows(bus, correlationId)).find((r) => r.kind === 'event' && ENDINGS.has(r.type))
  if (row?.kind !== 'event') return null
  const view = partitionBus(bus, row.partition)
  const [entry] = (await view.redis.xrange(view.keys.stream(row.type), row.entryId, row.entryId)) as [string, string[]][]
  if (entry === undefined) return null
  const { type, payload } = decodeEvent(entry[1])
  const p = payload as Record<string, unknown>
  const fileName = String(p.fileName ?? '')
  if (type === EVENT.delivered) return { outcome: 'delivered', fileName, outputPath: String(p.outputPath ?? '') }
  if (type === EVENT.rejected) return { outcome: 'rejected', fileName, stage: String(p.stage ?? ''), reasons: (p.reasons ?? []) as Issue[] }
  return { outcome: 'duplicate', fileName, firstCorrelationId: String(p.firstCorrelationId ?? '') }
}

/** Polls `read` until it gives a value or `timeoutMs` runs out (then null). */
export async function pollUntil<T>(read: () => Promise<T | null>, options: { timeoutMs: number; intervalMs?: number }): Promise<T | null> {
  const deadline = Date.now() + options.timeoutMs
  for (;;) {
    const value = await read()
    if (value !== null || Date.now() >= deadline) return value
    await sleep(Math.min(options.intervalMs ?? 100, Math.max(0, deadline - Date.now())))
  }
}

/** Waits for each file's ending, all at once; null for a file that has none within `timeoutMs`. */
export function awaitEndings(bus: Bus, correlationIds: readonly string[], timeoutMs: number): Promise<(FileEnding | null)[]> {
  return Promise.all(correlationIds.map((id) => pollUntil(() => readEnding(bus, id), { timeoutMs })))
}
