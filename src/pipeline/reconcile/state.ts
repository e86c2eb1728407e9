import { compareRows, eachPartition, readStateEntries, rebuildOnline, sumComparisons, toRows, type Bus, type ConsumerDefinition, type StateComparison } from '../../bus/index.js'
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
 * rebuild from the retained log (an online rebuild that swaps nothing). With partitions, a
 * state is every partition's rows together; a rebuild is proved per partition and summed.
 */
export async function reconcileState(bus: Bus, consumers: readonly ConsumerDefinition[], spec: string): Promise<StateReconciliation> {
  const [leftName, rightName] = spec.split(':') as [string, string | undefined]
  const left = find(consumers, leftName)
  if (rightName === undefined) {
    const each = await eachPartition(bus, async (view) => (await rebuildOnline(view, { consumer: left, batchSize: 200, swap: false, fromSnapshot: false })).proof.comparison)
    return { left: left.name, right: REBUILT, comparison: sumComparisons(each) }
  }
  const right = find(consumers, rightName)
  const rows = async (c: ConsumerDefinition) => (await eachPartition(bus, async (view) => [...toRows(await readStateEntries(view, view.keys.statePrefix(c.name)), c.readModel)])).flat()
  return { left: left.name, right: right.name, comparison: compareRows(new Map(await rows(left)), new Map(await rows(right))) }
}

function find(consumers: readonly ConsumerDefinition[], name: string): ConsumerDefinition {
  const found = consumers.find((c) => c.name === name)
  if (found) return found
  throw new EventspineError('E_RECONCILE_UNKNOWN_READ_MODEL', `no consumer named "${name}" in the pipeline to compare`, {
    hint: `--state takes <consumer> (against its rebuild) or <consumer>:<consumer>. Consumers: ${consumers.map((c) => c.name).join(', ')}.`,
  })
}
