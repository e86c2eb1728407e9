import { unknownNameError } from '../names.js'
import { STAGE_NAMES } from '../pipeline/stages/names.js'

/** The built-in pipeline's consumers: the ones whose handlers `dlq replay` and `replay` can run. */
export const BUILTIN_CONSUMERS: readonly string[] = STAGE_NAMES

/** `name` when it is a built-in consumer; else a usage error (exit 2) with the closest name and the list. */
export function builtinConsumer(name: string): string {
  if (BUILTIN_CONSUMERS.includes(name)) return name
  throw unknownNameError('E_UNKNOWN_CONSUMER', 'consumer', name, BUILTIN_CONSUMERS)
}

/**
 * For commands that also read consumers of your own (`dlq list`, `dlq purge`): a name that is
 * not built in and has nothing in the namespace was a typo, not an empty consumer.
 */
export function unknownConsumer(name: string, found: readonly string[]): Error {
  const known = [...new Set([...BUILTIN_CONSUMERS, ...found])]
  return unknownNameError('E_UNKNOWN_CONSUMER', 'consumer', name, known, 'Your own consumers are listed once they have dead letters in this namespace.')
}
