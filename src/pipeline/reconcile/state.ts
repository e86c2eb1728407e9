import { compareRows, readStateEntries, rebuildOnline, toRows, type Bus, type ConsumerDefinition, type StateComparison } from '../../bus/index.js'
import { EventspineError } from '../../errors.js'

export interface StateReconciliation {
  readonly left: string
  readonly right: string
  readonly comparison: StateComparison
}

/** The side that names a rebuild from the retained log (`--state nav-latest` alone). */
export const REBUILT = 'rebuilt from the log'

/**
 * Compares two read models by key: `a:b`, two consumers' states through each one's
 * `readModel` (the team's key mapping where the shapes differ), or `a` alone, against its
 * rebuild from the retained log (an online rebuild that swaps nothing).
 */
export async function reconcileState(bus: Bus, consumers: readonly ConsumerDefinition[], spec: string): Promise<StateReconciliation> {
  const [leftName, rightName] = spec.split(':') as [string, string | undefined]
  const left = find(consumers, leftName)
  if (rightName === undefined) {
    const rebuilt = await rebuildOnline(bus, { consumer: left, batchSize: 200, swap: false, fromSnapshot: false })
    return { left: left.name, right: REBUILT, comparison: rebuilt.proof.comparison }
  }
  const right = find(consumers, rightName)
  const rows = async (c: ConsumerDefinition) => toRows(await readStateEntries(bus, bus.keys.statePrefix(c.name)), c.readModel)
  return { left: left.name, right: right.name, comparison: compareRows(await rows(left), await rows(right)) }
}

function find(consumers: readonly ConsumerDefinition[], name: string): ConsumerDefinition {
  const found = consumers.find((c) => c.name === name)
  if (found) return found
  throw new EventspineError('E_RECONCILE_UNKNOWN_READ_MODEL', `no consumer named "${name}" in the pipeline to compare`, {
    hint: `--state takes <consumer> (against its rebuild) or <consumer>:<consumer>. Consumers: ${consumers.map((c) => c.name).join(', ')}.`,
  })
}
