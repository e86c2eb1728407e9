import { registeredConsumers, removeGoneConsumers } from '../bus/presence.js'
import { deleteNamespaces, findScratchNamespaces, type ScratchNamespace } from '../bus/scratch.js'
import { withPipelineBus, type PipelineConnection } from './connection.js'

/** A consumer registered in the namespace whose instances are gone (no instance seen for a while). */
export interface GoneConsumer {
  readonly consumer: string
  /** When an instance of it was last seen (null: registered before consumers beat). */
  readonly lastSeenAt: string | null
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
    // Only the registration goes: the consumer's group, state and dead letters stay, as they
    // hold data a person may still want (and a group that comes back resumes from them).
    const goneConsumers: GoneConsumer[] = (await registeredConsumers(bus)).filter((c) => c.gone).map((c) => ({ consumer: c.name, lastSeenAt: c.lastSeenAt }))
    if (options.remove && goneConsumers.length > 0) await removeGoneConsumers(bus, { only: goneConsumers.map((c) => c.consumer) })
    let deletedKeys = 0
    if (options.remove) for (const n of namespaces) if (!n.live) deletedKeys += await deleteNamespaces(bus.redis, n.namespace)
    return { namespaces, goneConsumers, removed: options.remove, deletedKeys }
  })
}
