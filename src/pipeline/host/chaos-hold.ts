import { setTimeout as sleep } from 'node:timers/promises'
import type { Bus } from '../../bus/bus.js'
import type { RunnerOptions } from '../../bus/runner.js'

/**
 * For fault injection (`pipeline load --chaos` starts workers with it): while the consumer's
 * hold key is set, an instance that has handled a wave stops right before committing it and
 * reports `<pid> <events>` in the held key, so a kill -9 or SIGSTOP lands mid-batch for sure.
 * Costs one GET per commit, so only chaos workers run with it.
 */
export function holdBeforeCommit(b: Bus): NonNullable<RunnerOptions['beforeCommit']> {
  return async (runner, events) => {
    if (events.length === 0) return
    const name = runner.consumer.name
    if ((await b.redis.get(b.keys.chaosHold(name))) === null) return
    await b.redis.set(b.keys.chaosHeld(name), `${process.pid} ${events.length}`)
    while ((await b.redis.get(b.keys.chaosHold(name))) !== null) await sleep(20)
  }
}
