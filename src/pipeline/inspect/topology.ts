import { registeredConsumers, type Bus, type ConsumerDefinition, type PresenceOptions } from '../../bus/index.js'
import { builtinSource, listingHost, type PipelineSource } from '../source.js'

/** Who reads what and emits what: enough to tell what a file is still waiting for. */
export interface TopologyConsumer {
  readonly name: string
  readonly subscribes: readonly string[]
  readonly emits: readonly string[]
}

export interface Topology {
  readonly consumers: readonly TopologyConsumer[]
  /**
   * Types that end a file's journey: the pipeline's declared endings (the fund pipeline's
   * delivered, rejected, duplicate), which stay endings whatever else listens to them; with none
   * declared, the types emitted and read by no emitting consumer.
   */
  readonly terminalTypes: readonly string[]
}

export function topologyOf(consumers: readonly TopologyConsumer[], endings: readonly string[] = []): Topology {
  if (endings.length > 0) return { consumers, terminalTypes: [...endings] }
  const fed = new Set(consumers.filter((c) => c.emits.length > 0).flatMap((c) => c.subscribes))
  const emitted = [...new Set(consumers.flatMap((c) => c.emits))]
  return { consumers, terminalTypes: emitted.filter((t) => !fed.has(t)) }
}

function fromDefinitions(definitions: readonly ConsumerDefinition[]): TopologyConsumer[] {
  return definitions.map((d) => ({ name: d.name, subscribes: [...d.subscribes], emits: [...(d.emits ?? [])] }))
}

/**
 * The project's consumers (its config, else the built-in fund pipeline), joined with (and
 * overridden by name by) those registered in the namespace that are still alive: each runner
 * records its `subscribes`/`emits` and refreshes a heartbeat, so consumers run from elsewhere
 * count too, and one whose process is gone (no instance seen for a minute) no longer shapes what
 * a file waits for. The project's are always there, so a file published while the pipeline is
 * down or still starting shows what it waits for.
 */
export async function readTopology(bus: Bus, presence: PresenceOptions = {}, source: PipelineSource = builtinSource()): Promise<Topology> {
  const consumers: TopologyConsumer[] = (await registeredConsumers(bus, presence)).filter((c) => !c.gone).map(({ name, subscribes, emits }) => ({ name, subscribes, emits }))
  // Listing the consumers reads no files (the fund stages load reference data on first use).
  const registeredByName = new Map(consumers.map((c) => [c.name, c]))
  const builtIn = fromDefinitions(source.consumers(listingHost())).map((c) => registeredByName.get(c.name) ?? c)
  const builtInNames = new Set(builtIn.map((c) => c.name))
  const extra = consumers.filter((c) => !builtInNames.has(c.name)).sort((a, b) => a.name.localeCompare(b.name))
  return topologyOf([...builtIn, ...extra], source.endings)
}
