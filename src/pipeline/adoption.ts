// `pipeline schema adoption`: during a contract migration, who writes and who reads which version.
import { partitionBus, registeredConsumers, windowIds, type Bus, type RegisteredConsumer } from '../bus/index.js'
import { redisTimeMs } from '../redis/clock.js'
import { withPipelineBus, type PipelineConnection } from './connection.js'
import { builtinSource, type PipelineSource } from './source.js'

type RawEntry = [id: string, fields: string[]]

/** How one registered consumer takes each version appended in the window. */
export interface ReaderAdoption {
  readonly consumer: string
  /** The version its handler is written for: declared (`reads`), else the latest. */
  readonly reads: number
  readonly declared: boolean
  readonly gone: boolean
  readonly native: readonly number[]
  /** Older versions it reads through upcasters. */
  readonly upcast: readonly number[]
  /** Versions it skips because a dual-published copy of its own version comes too. */
  readonly otherCopies: readonly number[]
  /** Newer versions appended alone: it cannot read them (they are dead-lettered). */
  readonly unreadable: readonly number[]
  /** Set when it declares no version of a dual-published type: it handles every copy. */
  readonly warning?: string
}

export interface TypeAdoption {
  readonly type: string
  readonly latest: number
  /** Events appended in the window, per contract version. */
  readonly appended: Readonly<Record<number, number>>
  /** Of those, copies of dual-published events. */
  readonly dual: number
  /** Per producer version (envelope `producerVersion`, `-` when it does not say): events per contract version. */
  readonly producers: Readonly<Record<string, Readonly<Record<number, number>>>>
  readonly readers: readonly ReaderAdoption[]
  /** Per contract version: the share of registered readers written for it (0..1). */
  readonly adoption: Readonly<Record<number, number>>
}

export interface AdoptionReport {
  readonly window: { readonly from: string; readonly to: string }
  readonly types: readonly TypeAdoption[]
}

export interface AdoptionOptions extends PipelineConnection {
  readonly source?: PipelineSource | undefined
  readonly since?: number | undefined
  readonly from?: string | undefined
  readonly to?: string | undefined
  /** Only these types. Default: every type with a contract or a stream. */
  readonly types?: readonly string[] | undefined
}

export function schemaAdoption(options: AdoptionOptions): Promise<AdoptionReport> {
  const source = options.source ?? builtinSource()
  return withPipelineBus({ ...options, contracts: source.contracts() }, (bus) => adoption(bus, options))
}

const PAGE = 500

/** Counts versions appended per type in the window (one pass over its entries, no payload parsed) and classifies each registered reader. */
export async function adoption(bus: Bus, options: Omit<AdoptionOptions, 'namespace'>): Promise<AdoptionReport> {
  const now = await redisTimeMs(bus.redis)
  const { from, to } = windowIds(options, now)
  const consumers = await registeredConsumers(bus)
  const streams = await bus.redis.smembers(bus.keys.streams)
  const types = options.types ?? [...new Set([...streams, ...consumers.flatMap((c) => c.subscribes)])].sort()
  const out: TypeAdoption[] = []
  for (const type of types) {
    const latest = bus.contracts.latestVersion(type) ?? 1
    const appended: Record<number, number> = {}
    const producers: Record<string, Record<number, number>> = {}
    const dualBy: Record<number, number> = {}
    // Each partition's stream of the type, counted together.
    for (const view of bus.partitions.map((_, p) => partitionBus(bus, p))) {
      let cursor = from
      for (;;) {
        const page = (await view.redis.xrange(view.keys.stream(type), cursor, to, 'COUNT', PAGE)) as RawEntry[]
        for (const [, f] of page) {
          const version = Number(field(f, 'version') ?? 0)
          const producer = field(f, 'producerVersion') ?? '-'
          appended[version] = (appended[version] ?? 0) + 1
          const p = (producers[producer] ??= {})
          p[version] = (p[version] ?? 0) + 1
          if (field(f, 'dualOf') !== undefined) dualBy[version] = (dualBy[version] ?? 0) + 1
        }
        if (page.length < PAGE) break
        cursor = `(${(page[page.length - 1] as RawEntry)[0]}`
      }
    }
    const dual = Object.values(dualBy).reduce((a, n) => a + n, 0)
    const readers = consumers.filter((c) => c.subscribes.includes(type)).map((c) => reader(c, type, latest, appended, dualBy))
    const shares: Record<number, number> = {}
    for (const v of new Set([...Object.keys(appended).map(Number), ...readers.map((r) => r.reads)])) {
      shares[v] = readers.length === 0 ? 0 : readers.filter((r) => r.reads === v).length / readers.length
    }
    if (readers.length > 0 || Object.keys(appended).length > 0) out.push({ type, latest, appended, dual, producers, readers, adoption: shares })
  }
  return { window: { from, to }, types: out }
}

function field(f: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < f.length; i += 2) if (f[i] === name) return f[i + 1]
  return undefined
}

/** How a reader takes each version: events of another version published alone are lifted (older) or unreadable (newer); dual copies beside its own are skipped. */
function reader(c: RegisteredConsumer, type: string, latest: number, appended: Readonly<Record<number, number>>, dualBy: Readonly<Record<number, number>>): ReaderAdoption {
  const declared = c.reads?.[type]
  const reads = declared ?? latest
  const versions = Object.keys(appended).map(Number).sort((a, b) => a - b)
  const alone = (v: number) => (appended[v] ?? 0) - (dualBy[v] ?? 0) > 0
  const ownCopy = (dualBy[reads] ?? 0) > 0
  return {
    consumer: c.name,
    reads,
    declared: declared !== undefined,
    gone: c.gone,
    native: versions.filter((v) => v === reads),
    upcast: versions.filter((v) => v < reads && alone(v)),
    otherCopies: versions.filter((v) => v !== reads && ownCopy && (dualBy[v] ?? 0) > 0),
    unreadable: versions.filter((v) => v > reads && alone(v)),
    ...(declared === undefined && Object.keys(dualBy).length > 0 ? { warning: `declares no version of ${type}: it handles every dual-published copy; give it reads: { '${type}': ${reads} }` } : {}),
  }
}

/** For `schema check --registry`: per type and version, who reads it and how many stored events have it (the whole retained log). */
export function versionsInUse(options: PipelineConnection & { readonly source?: PipelineSource | undefined }): Promise<{ readers: Record<string, Record<number, string[]>>; stored: Record<string, Record<number, number>> }> {
  const source = options.source ?? builtinSource()
  return withPipelineBus({ ...options, contracts: source.contracts() }, async (bus) => {
    const report = await adoption(bus, {})
    const readers: Record<string, Record<number, string[]>> = {}
    const stored: Record<string, Record<number, number>> = {}
    for (const t of report.types) {
      stored[t.type] = { ...t.appended }
      const byVersion: Record<number, string[]> = (readers[t.type] = {})
      for (const r of t.readers) (byVersion[r.reads] ??= []).push(r.consumer)
    }
    return { readers, stored }
  })
}
