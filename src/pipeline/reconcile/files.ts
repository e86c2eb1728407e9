import type { IndexRow } from '../../bus/index-rows.js'
import { readIndexRows } from '../../bus/correlation.js'
import { partitionBus, type Bus } from '../../bus/index.js'
import { entryTime } from '../../bus/entry-ids.js'
import { decodeEvent } from '../../events/envelope.js'

type RawEntry = [id: string, fields: string[]]

/** Files of one provider and kind in the window, by how their journey ended. */
export interface FileCounts {
  readonly provider: string
  readonly kind: string
  received: number
  /** Per ending type (delivered, rejected, duplicate for the fund pipeline). */
  readonly endings: Record<string, number>
  inFlight: number
  /** Files whose correlation index expired: their ending can no longer be told. */
  expired: number
  unexplained: number
}

export interface InFlightFile {
  readonly correlationId: string
  readonly fileName: string
  readonly provider: string
  readonly kind: string
  /** Since it was received, on Redis's clock. */
  readonly ageMs: number
  /** The stage it waits at: after its last event, or at the consumer that dead-lettered it. */
  readonly waitingAt: string
}

export interface FileProblem {
  readonly correlationId: string
  readonly fileName: string
  readonly problem: string
}

export interface FileReconciliation {
  readonly groups: readonly FileCounts[]
  readonly inFlight: readonly InFlightFile[]
  readonly problems: readonly FileProblem[]
}

const PAGE = 100

/**
 * Every file received in the window (intake entries between `from` and `to`) has exactly one
 * ending, or is in flight: read from the correlation index (rows only), plus the ending's entry
 * (and, lacking provider or kind there, the file's next event) for the group it counts in.
 * Intake streams are read in every partition, and each file's index rows in every partition (a
 * team's emits to other partitions put rows there).
 */
export async function reconcileFiles(
  bus: Bus,
  options: { readonly intake: readonly string[]; readonly endings: readonly string[]; readonly from: string; readonly to: string; readonly now: number },
): Promise<FileReconciliation> {
  const endings = new Set(options.endings)
  const groups = new Map<string, FileCounts>()
  const inFlight: InFlightFile[] = []
  const problems: FileProblem[] = []
  for (let p = 0; p < bus.partitionCount; p++) for (const type of options.intake) {
    const view = partitionBus(bus, p)
    let from = options.from
    for (;;) {
      const page = (await view.redis.xrange(view.keys.stream(type), from, options.to, 'COUNT', PAGE)) as RawEntry[]
      for (const [entryId, fields] of page) {
        let event
        try {
          event = decodeEvent(fields)
        } catch {
          continue // an intake entry nobody can read was dead-lettered by its consumers: the counts per consumer show it
        }
        const fileName = String((event.payload as { fileName?: unknown }).fileName ?? '')
        const rows = await readIndexRows(bus, event.correlationId)
        const ended = rows.filter((r): r is Located & { kind: 'event' } => r.kind === 'event' && endings.has(r.type))
        let facts = await fileFacts(bus, ended[0])
        if (facts.provider === '-') {
          const more = await fileFacts(bus, rows.find((r) => r.kind === 'event' && r.type !== type && !endings.has(r.type)))
          facts = { provider: more.provider, kind: facts.kind === '-' ? more.kind : facts.kind }
        }
        const key = `${facts.provider}\0${facts.kind}`
        const g = groups.get(key) ?? { provider: facts.provider, kind: facts.kind, received: 0, endings: {}, inFlight: 0, expired: 0, unexplained: 0 }
        groups.set(key, g)
        g.received++
        if (rows.length === 0) g.expired++
        else if (ended.length === 1) g.endings[(ended[0] as { type: string }).type] = (g.endings[(ended[0] as { type: string }).type] ?? 0) + 1
        else if (ended.length > 1) {
          g.unexplained++
          problems.push({ correlationId: event.correlationId, fileName, problem: `${ended.length} endings: ${ended.map((r) => r.type).join(', ')}` })
        } else {
          g.inFlight++
          const last = rows[rows.length - 1] as IndexRow
          const waitingAt = last.kind === 'dead-letter' ? `dead letter at ${last.consumer}` : `after ${last.type}`
          inFlight.push({ correlationId: event.correlationId, fileName, provider: facts.provider, kind: facts.kind, ageMs: Math.max(0, options.now - entryTime(entryId)), waitingAt })
        }
      }
      if (page.length < PAGE) break
      from = `(${(page[page.length - 1] as RawEntry)[0]}`
    }
  }
  const sorted = [...groups.values()].sort((a, b) => a.provider.localeCompare(b.provider) || a.kind.localeCompare(b.kind))
  return { groups: sorted, inFlight, problems }
}

type Located = IndexRow & { readonly partition: number }

/** Provider and kind of a file, from one of its events ('-' where it does not say), read in the row's partition. */
async function fileFacts(bus: Bus, row: Located | undefined): Promise<{ provider: string; kind: string }> {
  if (row?.kind !== 'event') return { provider: '-', kind: '-' }
  const view = partitionBus(bus, row.partition)
  const [entry] = (await view.redis.xrange(view.keys.stream(row.type), row.entryId, row.entryId)) as RawEntry[]
  if (!entry) return { provider: '-', kind: '-' }
  try {
    const p = decodeEvent(entry[1]).payload as { provider?: unknown; kind?: unknown }
    return { provider: typeof p.provider === 'string' ? p.provider : '-', kind: typeof p.kind === 'string' ? p.kind : '-' }
  } catch {
    return { provider: '-', kind: '-' }
  }
}
