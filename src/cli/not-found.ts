import { toConfiguredId, type Hook } from '@oclif/core'
import { editDistance } from '../names.js'

/**
 * `pipeline trac`: on a terminal, oclif's plugin-not-found asks "Did you mean trace?" and runs it.
 * Elsewhere (scripts, CI, a spawned process) nobody can answer and that plugin only says the command
 * does not exist, so here the suggestion is printed and the exit code is 127, as the shell's own.
 * (Registered as the root's hook instead of the plugin: both would run, at once, for the same typo.)
 */
const hook: Hook.CommandNotFound = async function (options) {
  if (process.stdin.isTTY) {
    const { default: ask } = await import('@oclif/plugin-not-found')
    return ask.call(this, options)
  }
  const { config } = options
  const ids = config.commands.filter((c) => !c.hidden).flatMap((c) => [c.id, ...c.aliases])
  const suggestion = closest(options.id, ids)
  this.warn(`${toConfiguredId(options.id, config)} is not a ${config.bin} command.`)
  const meant = suggestion === undefined ? '' : `Did you mean ${config.bin} ${toConfiguredId(suggestion, config)}? `
  this.error(`${meant}Run ${config.bin} help for a list of available commands.`, { exit: 127 })
}

export default hook

/** The candidate with the smallest edit distance to `typed` (the first of equals). */
export function closest(typed: string, candidates: readonly string[]): string | undefined {
  let best: { id: string; distance: number } | undefined
  for (const id of candidates) {
    const distance = editDistance(typed, id)
    if (best === undefined || distance < best.distance) best = { id, distance }
  }
  return best?.id
}
