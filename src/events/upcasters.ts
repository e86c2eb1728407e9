import { EventspineError } from '../errors.js'
import type { EventEnvelope } from './envelope.js'

/**
 * Lifts a payload of version N to version N+1 of the same type. It must not mutate its input
 * (the caller may still hold the stored event) and must be deterministic, so a replay reads
 * the same facts every time.
 */
// `any`: the payload's shape is known only to the upcaster's author.
export type Upcaster = (payload: any) => unknown

/** The upcasters of one registry: type -> lift indexed by the version it lifts from. */
export class UpcasterChain {
  private readonly lifts = new Map<string, Array<Upcaster | undefined>>()

  /** Adds the N -> N+1 lift; a second one for the same step is refused (E_CONTRACT_UPCAST). */
  add(type: string, fromVersion: number, lift: Upcaster): void {
    let byVersion = this.lifts.get(type)
    if (byVersion === undefined) {
      byVersion = []
      this.lifts.set(type, byVersion)
    }
    if (byVersion[fromVersion] !== undefined) {
      throw new EventspineError(
        'E_CONTRACT_UPCAST',
        `an upcaster for ${type} v${fromVersion} -> v${fromVersion + 1} is already registered`,
        { hint: 'Register each step once, where the contracts are loaded.', details: { type, fromVersion } },
      )
    }
    byVersion[fromVersion] = lift
  }

  /** True when the lift from `fromVersion` to `fromVersion + 1` of `type` is registered. */
  has(type: string, fromVersion: number): boolean {
    return this.lifts.get(type)?.[fromVersion] !== undefined
  }

  /** A copy that can take more upcasters without changing this one. */
  clone(): UpcasterChain {
    const copy = new UpcasterChain()
    for (const [type, byVersion] of this.lifts) copy.lifts.set(type, [...byVersion])
    return copy
  }

  /**
   * Lifts `event` step by step to `target`. Throws E_CONTRACT_UPCAST naming the missing step
   * or the step whose upcaster threw.
   */
  lift(event: EventEnvelope, target: number): EventEnvelope {
    const byVersion = this.lifts.get(event.type)
    let payload: unknown = event.payload
    for (let from = event.version; from < target; from++) {
      const lift = byVersion?.[from]
      const step = `${event.type} v${from} -> v${from + 1}`
      if (lift === undefined) {
        throw new EventspineError(
          'E_CONTRACT_UPCAST',
          `cannot read event ${event.id} (${event.type}@${event.version}) as v${target}: no upcaster for ${step}`,
          {
            hint: `Register one: registry.registerUpcaster('${event.type}', ${from}, (payload) => ({ ... }))`,
            details: { type: event.type, version: event.version, target, missingFrom: from },
          },
        )
      }
      try {
        payload = lift(payload)
      } catch (error) {
        throw new EventspineError(
          'E_CONTRACT_UPCAST',
          `the upcaster for ${step} failed on event ${event.id}: ${error instanceof Error ? error.message : String(error)}`,
          { userFixable: false, details: { type: event.type, version: event.version, failedFrom: from }, cause: error },
        )
      }
    }
    const lifted = { ...event, version: target, payload }
    // In memory only (not enumerable: not in JSON output, not compared): the event as stored.
    Object.defineProperty(lifted, 'upcastFrom', { value: event.upcastFrom ?? event, enumerable: false })
    return lifted
  }
}
