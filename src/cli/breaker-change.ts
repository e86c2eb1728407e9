import { Flags } from '@oclif/core'
import type { BreakerChange } from '../pipeline/pause.js'
import { breakerChangeLine } from '../ui/format.js'
import { unknownConsumer } from './consumers.js'
import { redisFlags } from './flags.js'
import { configFlag, openProject } from './project.js'

/** The flags of `pause` and `resume`. */
export function breakerFlags(action: 'pause' | 'resume') {
  return {
    ...redisFlags,
    ...configFlag,
    consumer: Flags.string({ summary: `The consumer to ${action}.`, required: true }),
  }
}

/** `pause` and `resume`: the consumer checked against the project's and the namespace's, its breaker changed, the line to print. */
export async function changeBreakerByHand(flags: { 'redis-url'?: string | undefined; namespace: string; consumer: string; config?: string | undefined }, action: 'pause' | 'resume'): Promise<{ change: BreakerChange; line: string }> {
  const [{ changeBreaker }, { names }] = await Promise.all([import('../pipeline/pause.js'), openProject(flags.config, { quiet: true })])
  const change = await changeBreaker({
    url: flags['redis-url'],
    namespace: flags.namespace,
    consumer: flags.consumer,
    action,
    known: names,
    unknownConsumer: (registered) => unknownConsumer(flags.consumer, names, registered, 'once an instance has run'),
  })
  return { change, line: breakerChangeLine(change) }
}
