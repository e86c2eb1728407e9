import { Flags } from '@oclif/core'
import type { Project } from '../project/load.js'
import type { ProjectWatch } from '../project/reload.js'
import { errorMessage } from '../errors.js'
import { terminalSafe } from '../ui/safe-text.js'

/** `--config`: every command that runs or describes consumers takes the project's pipeline from it. */
export const configFlag = {
  config: Flags.string({
    summary: 'The project config (pipeline.config.ts/.mjs/.js). Default: the nearest one in this folder or above; none: the built-in fund pipeline.',
    env: 'PIPELINE_CONFIG',
    helpGroup: 'PROJECT',
  }),
}

/**
 * The project's pipeline, loaded (lazily: `--help` loads no config) and checked; its warnings go
 * to stderr (stdout may be --json), where they do not stop anything.
 */
export async function openProject(config: string | undefined, options: { quiet?: boolean } = {}): Promise<Project> {
  const { loadProject } = await import('../project/load.js')
  const project = await loadProject({ configPath: config })
  if (options.quiet !== true) for (const warning of project.warnings) process.stderr.write(`warning: ${terminalSafe(warning)}\n`)
  return project
}

/**
 * For `up`: watch what the project's config imports, so changed consumers are reloaded. None for
 * the built-in pipeline; when watching cannot start (no tsx), up runs on and says why.
 */
export async function watchForReload(project: Project, enabled: boolean): Promise<ProjectWatch | undefined> {
  if (!enabled || project.file === undefined) return undefined
  const { watchProject } = await import('../project/reload.js')
  try {
    return await watchProject(project)
  } catch (error) {
    process.stderr.write(`warning: changes to ${terminalSafe(project.file)} will not be reloaded: ${terminalSafe(errorMessage(error))}\n`)
    return undefined
  }
}
