import type { Bus } from '../bus/bus.js'
import type { ContractChecker } from '../bus/contracts.js'
import { keysFor } from '../bus/keys.js'
import { publishEvents } from '../bus/publish.js'
import { toRecord } from '../bus/reader.js'
import { compareEntryIds } from '../bus/entry-ids.js'
import type { ScriptClient } from '../bus/scripts.js'

/** A Bus over a shared connection for one namespace: what the commit, fail and read pieces need. */
export function checkBus(namespace: string, redis: ScriptClient, contracts: ContractChecker): Bus {
  const keys = keysFor(namespace)
  const bus: Bus = {
    keys,
    partitions: [keys],
    partitionCount: 1,
    partitionOf: () => 0,
    namespace,
    source: 'eventspine-check',
    contracts,
    redis,
    warn: () => {},
    connect: () => redis,
    publish: (events) => publishEvents(bus, Array.isArray(events) ? events : [events]),
    run: () => {
      throw new Error('the check driver runs consumers itself')
    },
    close: async () => {},
  }
  return bus
}

/**
 * Moves a group's last-delivered id back to just before `entryId`, so it and every later entry
 * are delivered again. Only ever backwards (false when the entry was not delivered yet): SETID
 * past an undelivered entry would skip it, which is not a redelivery.
 */
export async function rewindGroup(bus: Bus, streamKey: string, group: string, entryId: string): Promise<boolean> {
  const groups = (await bus.redis.xinfo('GROUPS', streamKey)) as unknown[][]
  const info = groups.map(toRecord).find((g) => g.name === group)
  if (!info || compareEntryIds(String(info['last-delivered-id']), entryId) < 0) return false
  const [ms, seq] = entryId.split('-').map(BigInt) as [bigint, bigint]
  const before = seq > 0n ? `${ms}-${seq - 1n}` : `${ms - 1n}-18446744073709551615`
  await bus.redis.xgroup('SETID', streamKey, group, before)
  return true
}
