// `pipeline pause` and `pipeline resume`: a consumer's breaker opened or closed by hand.
import { pauseConsumer, resumeConsumer, type BreakerState } from '../bus/index.js'
import { withPipelineBus, type PipelineConnection } from './connection.js'

export interface BreakerChange {
  readonly consumer: string
  readonly action: 'pause' | 'resume'
  /** False when it was already so (paused by hand; closed). */
  readonly changed: boolean
  readonly breaker: BreakerState
}

export interface BreakerChangeOptions extends PipelineConnection {
  readonly consumer: string
  readonly action: 'pause' | 'resume'
  /** The project's consumers (its config, else the built-in pipeline): paused even before any instance ran. */
  readonly known: readonly string[]
  /** The error for a name that is neither the project's nor registered in the namespace (the CLI's "did you mean"). */
  readonly unknownConsumer: (registered: readonly string[]) => Error
}

/**
 * `pause` opens the consumer's breaker by hand: its instances take no event (no probes) until
 * `resume`, which closes it however it opened. Instances see it within a read's block time.
 */
export function changeBreaker(options: BreakerChangeOptions): Promise<BreakerChange> {
  return withPipelineBus(options, async (bus) => {
    const { consumer, action } = options
    if (!options.known.includes(consumer)) {
      const registered = await bus.redis.hkeys(bus.keys.consumers)
      if (!registered.includes(consumer)) throw options.unknownConsumer(registered)
    }
    const { changed, state } = action === 'pause' ? await pauseConsumer(bus, consumer) : await resumeConsumer(bus, consumer)
    return { consumer, action, changed, breaker: state }
  })
}
