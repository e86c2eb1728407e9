import { unknownNameError } from '../names.js'

/** `name` when it is a consumer of the project (its config, else the built-in pipeline); else a usage error (exit 2) with the closest name and the list. */
export function projectConsumer(project: { readonly names: readonly string[]; readonly file: string | undefined }, name: string): string {
  if (project.names.includes(name)) return name
  throw unknownNameError('E_UNKNOWN_CONSUMER', 'consumer', name, project.names, project.file === undefined ? '' : `(the consumers of ${project.file})`)
}

/**
 * For commands that also act on consumers run from elsewhere (`dlq list`, `dlq purge`, `pause`,
 * `resume`): a name that is neither the project's nor `found` in the namespace was a typo.
 * `foundWhen` says when one run from elsewhere is found, e.g. "once they have dead letters".
 */
export function unknownConsumer(name: string, project: readonly string[], found: readonly string[], foundWhen: string): Error {
  const known = [...new Set([...project, ...found])]
  return unknownNameError('E_UNKNOWN_CONSUMER', 'consumer', name, known, `Consumers run from elsewhere are listed ${foundWhen} in this namespace.`)
}
