import type { EventEnvelope } from '../events/envelope.js'

/**
 * What the bus needs of a contract registry (src/events' registry satisfies it): validation on
 * publish and on read, the latest version of a type, and upcasting of older versions on read.
 */
export interface ContractChecker {
  validate(type: string, version: number, payload: unknown, where?: string): void
  upcast(event: EventEnvelope): EventEnvelope
  latestVersion(type: string): number | undefined
}

/** Accepts everything: for benchmarks of the bare runtime and for tests of the runtime itself. */
export const permissiveContracts: ContractChecker = {
  validate() {},
  upcast: (event) => event,
  latestVersion: () => 1,
}
