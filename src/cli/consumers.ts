import { unknownNameError } from '../names.js'

/** `name` when it is a consumer of the project (its config, else the built-in pipeline); else a usage error (exit 2) with the closest name and the list. */
export function projectConsumer(project: { readonly names: readonly string[]; readonly file: string | undefined }, name: string): string {
  if (project.names.includes(name)) return name
  throw unknownNameError('E_UNKNOWN_CONSUMER', 'consumer', name, project.names, project.file === undefined ? '' : `(the consumers of ${project.file})`)
}

/**
 * For commands that also read consumers run from elsewhere (`dlq list`, `dlq purge`): a name that
 * is not the project's and has nothing in the namespace was a typo, not an empty consumer.
 */
export function unknownConsumer(name: string, project: readonly string[], found: readonly string[]): Error {
  const known = [...new Set([...project, ...found])]
  return unknownNameError('E_UNKNOWN_CONSUMER', 'consumer', name, known, 'Consumers run from elsewhere are listed once they have dead letters in this namespace.')
}

/** For `pause` and `resume`: the project's consumers and those registered in the namespace (run from elsewhere). */
export function unregisteredConsumer(name: string, project: readonly string[], registered: readonly string[]): Error {
  const known = [...new Set([...project, ...registered])]
  return unknownNameError('E_UNKNOWN_CONSUMER', 'consumer', name, known, 'Consumers run from elsewhere are listed once an instance has run in this namespace.')
}
