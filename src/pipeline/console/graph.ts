import type { FileOutcome, RuntimeSnapshot, StageFigures } from '../host/figures.js'

export interface GraphConsumer {
  readonly name: string
  readonly subscribes: readonly string[]
  readonly emits: readonly string[]
  /** The stage's line of the latest snapshot; null before the first one. */
  readonly figures: StageFigures | null
}

export interface GraphStream {
  readonly type: string
  /** Consumers that emit it, or `intake` for what the host itself publishes (inbox, publish). */
  readonly producers: readonly string[]
  readonly readers: readonly string[]
}

/** What the console's graph draws, sent at first paint and on every snapshot (SSE). */
export interface PipelineGraph {
  readonly at: string
  readonly namespace: string
  readonly consumers: readonly GraphConsumer[]
  readonly streams: readonly GraphStream[]
  readonly recent: readonly FileOutcome[]
  readonly warnings: readonly string[]
}

/** The pipeline's consumers (any team's, as the host runs them) and streams, with the snapshot's figures. Pure. */
export function pipelineGraph(
  consumers: readonly { readonly name: string; readonly subscribes: readonly string[]; readonly emits?: readonly string[] | undefined }[],
  intakeEmits: readonly string[],
  snapshot: RuntimeSnapshot,
): PipelineGraph {
  const byStage = new Map(snapshot.stages.map((s) => [s.stage, s]))
  const streams = new Map<string, { producers: string[]; readers: string[] }>()
  const stream = (type: string) => {
    let s = streams.get(type)
    if (!s) streams.set(type, (s = { producers: [], readers: [] }))
    return s
  }
  for (const type of intakeEmits) stream(type).producers.push('intake')
  for (const c of consumers) {
    for (const type of c.subscribes) stream(type).readers.push(c.name)
    for (const type of c.emits ?? []) stream(type).producers.push(c.name)
  }
  return {
    at: snapshot.at,
    namespace: snapshot.namespace,
    consumers: consumers.map((c) => ({ name: c.name, subscribes: [...c.subscribes], emits: [...(c.emits ?? [])], figures: byStage.get(c.name) ?? null })),
    streams: [...streams].map(([type, s]) => ({ type, producers: s.producers, readers: s.readers })),
    recent: snapshot.recent,
    warnings: snapshot.warnings,
  }
}
