import { deleteNamespaces, findScratchNamespaces, type ScratchNamespace } from '../bus/scratch.js'
import { withPipelineBus, type PipelineConnection } from './connection.js'

/** A consumer registered in the namespace whose instances are gone (no instance seen for a while). */
export interface GoneConsumer {
  readonly consumer: string
}

export interface CleanReport {
  /** Namespaces `load` and `fuzz` runs left on this Redis (a crash, kill -9); ones still in use are listed but never removed. */
  readonly namespaces: readonly ScratchNamespace[]
  readonly goneConsumers: readonly GoneConsumer[]
  /** False: only listed (no --yes). */
  readonly removed: boolean
  readonly deletedKeys: number
}

/**
 * `pipeline clean`: what earlier interrupted runs left behind, listed, and removed when asked.
 * Only the shapes of name the tool's own runs make are considered (see bus/scratch.ts), and a
 * namespace whose run still holds a lease is left alone.
 */
export function cleanLeftovers(options: PipelineConnection & { readonly remove: boolean }): Promise<CleanReport> {
  return withPipelineBus(options, async (bus) => {
    const namespaces = await findScratchNamespaces(bus.redis)
    // Integration point: the consumers of `options.namespace` whose instances are gone, found
    // (and, when `remove`, unregistered) by the gone-consumer function of the bus/inspect layer.
    const goneConsumers: GoneConsumer[] = []
    let deletedKeys = 0
    if (options.remove) for (const n of namespaces) if (!n.live) deletedKeys += await deleteNamespaces(bus.redis, n.namespace)
    return { namespaces, goneConsumers, removed: options.remove, deletedKeys }
  })
}
