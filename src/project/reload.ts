import { watch, type FSWatcher } from 'chokidar'
import type { SourceUpdate, SourceUpdates } from '../pipeline/source.js'
import { projectFiles } from './import.js'
import { loadProject, type Project } from './load.js'

export interface ProjectWatch extends SourceUpdates {
  /** The project's own files the config imports (what is watched), once the first look is done. */
  files(): readonly string[]
  close(): Promise<void>
}


/**
 * Watches every project file the config imports and, when one changes (debounced), loads the
 * config and its imports afresh: each update is the new project, or the error that kept it
 * from loading or validating (the caller keeps the old one running). The watched list follows
 * the imports of the latest good version.
 */
export async function watchProject(project: Project, options: { debounceMs?: number } = {}): Promise<ProjectWatch> {
  const file = project.file
  if (file === undefined) throw new Error('watchProject needs a project config file')
  const listeners = new Set<(update: SourceUpdate) => void>()
  let generation = 0
  const load = async (): Promise<{ project: Project; files: string[] } | { error: unknown }> => {
    const urls: string[] = []
    try {
      const next = await loadProject({ cwd: project.dir, configPath: file, fresh: { generation: ++generation, onImport: (url) => urls.push(url) } })
      return { project: next, files: projectFiles(urls, project.dir) }
    } catch (error) {
      return { error }
    }
  }
  // A .ts config went through tsx, which told what it imported; a .js one needs a first look.
  let watched: string[] = [...project.files]
  if (watched.length === 0) {
    const first = await load()
    if ('error' in first) throw first.error
    watched = first.files
  }
  const watcher: FSWatcher = watch(watched, { ignoreInitial: true, awaitWriteFinish: { stabilityThreshold: 50, pollInterval: 20 } })
  let timer: NodeJS.Timeout | undefined
  let loading: Promise<void> = Promise.resolve()
  const changed = () => {
    clearTimeout(timer)
    timer = setTimeout(() => {
      loading = loading.then(async () => {
        const result = await load()
        if ('error' in result) {
          for (const l of listeners) l({ error: result.error })
          return
        }
        const next = result.files.length > 0 ? result.files : [file]
        watcher.unwatch(watched.filter((f) => !next.includes(f)))
        watcher.add(next.filter((f) => !watched.includes(f)))
        watched = next
        for (const l of listeners) l({ source: result.project })
      })
    }, options.debounceMs ?? 200)
  }
  watcher.on('change', changed).on('add', changed).on('unlink', changed)
  await new Promise<void>((resolve) => watcher.once('ready', () => resolve()))
  return {
    files: () => watched,
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    async close() {
      clearTimeout(timer)
      await loading
      await watcher.close()
    },
  }
}
