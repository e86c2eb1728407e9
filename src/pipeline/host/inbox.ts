import { existsSync } from 'node:fs'
import { lstat, mkdir, readdir, readFile, readlink, rename, stat, writeFile } from 'node:fs/promises'
import { basename, extname, join, resolve } from 'node:path'
import { watch, type FSWatcher } from 'chokidar'
import type { Bus } from '../../bus/bus.js'
import { errorMessage } from '../../errors.js'
import { danglingRefusal, inboxRefusal, publishRefusal, readRefusal, refusalText } from '../admit.js'
import { routedReceived } from '../ingest.js'
import { receivedEvent } from '../intake.js'
import type { Issue } from '../types.js'

/** One file taken from the inbox: published (with its correlation id) or set aside. */
export type Intake =
  | { readonly fileName: string; readonly ok: true; readonly correlationId: string; readonly movedTo: string }
  | { readonly fileName: string; readonly ok: false; readonly reason: string; readonly movedTo: string }

export interface InboxOptions {
  readonly bus: Bus
  readonly dir: string
  /** A file must keep its size this long before it is read (chokidar awaitWriteFinish). Default 300 ms. */
  readonly stabilityMs?: number
  readonly clock?: () => Date
  readonly onIntake?: (intake: Intake) => void
}

export interface InboxWatcher {
  readonly dir: string
  /** Resolves when every file seen so far has been published and moved. */
  idle(): Promise<void>
  close(): Promise<void>
}

/** Files still being written under these names are left alone, as are dotfiles and `.done/`. */
export function isIgnoredName(name: string): boolean {
  return name.startsWith('.') || name.endsWith('.tmp') || name.endsWith('.part') || name.endsWith('~')
}

/**
 * Watches a folder for dropped files. Each complete file is published as
 * `pipeline.file.received`, then moved to `.done/` (or to `.failed/` beside a `.reason.txt`
 * when it cannot be published), so a restart does not take it in again. Files are taken one
 * at a time, in the order they became complete. Files already there at start are taken as
 * they are (chokidar checks stability only for files that appear later).
 */
export async function watchInbox(options: InboxOptions): Promise<InboxWatcher> {
  const dir = resolve(options.dir)
  await mkdir(dir, { recursive: true })
  const stability = options.stabilityMs ?? 300
  const watcher: FSWatcher = watch(dir, {
    depth: 0,
    ignoreInitial: false,
    ignored: (path) => resolve(path) !== dir && isIgnoredName(basename(path)),
    awaitWriteFinish: { stabilityThreshold: stability, pollInterval: Math.max(25, Math.floor(stability / 4)) },
    // Otherwise chokidar skips, without a word, a file whose owner-read bit is off: it must be refused instead.
    ignorePermissionErrors: true,
  })
  let chain: Promise<void> = Promise.resolve()
  const take = (path: string) => {
    chain = chain.then(() => takeIn(options, dir, path)).catch((error) => options.bus.warn(`inbox: ${basename(path)}: ${errorMessage(error)}`))
  }
  watcher.on('add', take)
  // A directory dropped in is refused (not-a-file) rather than left there unexplained.
  watcher.on('addDir', (path) => {
    if (resolve(path) !== dir) take(path)
  })
  watcher.on('error', (error) => options.bus.warn(`inbox watcher: ${errorMessage(error)}`))
  // chokidar never reports a symlink whose target is missing: look for those, and refuse one
  // still dangling at the next look (a link made just before its target is left time to resolve).
  const dangling = new Set<string>()
  const sweep = setInterval(() => {
    void danglingLinks(dir).then((now) => {
      for (const path of now) if (dangling.has(path)) take(path)
      dangling.clear()
      for (const path of now) dangling.add(path)
    })
  }, Math.max(1_000, stability * 4))
  sweep.unref()
  // Before 'ready', chokidar emits adds without awaiting the write: only return once it is ready.
  await new Promise<void>((done) => watcher.once('ready', () => done()))
  return {
    dir,
    idle: () => chain,
    async close() {
      clearInterval(sweep)
      await watcher.close()
      await chain
    },
  }
}

async function takeIn(options: InboxOptions, dir: string, path: string): Promise<void> {
  const name = basename(path)
  const link = await lstat(path).catch(() => null)
  if (link === null) return // moved away by someone else meanwhile
  const target = existsSync(path) ? await stat(path) : null
  let refusal: Issue | null = target === null ? danglingRefusal(name, await readlink(path).catch(() => '?')) : inboxRefusal(name, target)
  let correlationId = ''
  if (refusal === null) {
    let content: Buffer | undefined
    try {
      content = await readFile(path)
    } catch (error) {
      refusal = readRefusal(name, error)
    }
    if (content !== undefined) {
      try {
        const event = routedReceived(receivedEvent(name, content, { sourcePath: path, ...(options.clock ? { receivedAt: options.clock() } : {}) }), options.bus.partitionCount)
        const [published] = await options.bus.publish(event)
        correlationId = published?.correlationId ?? ''
      } catch (error) {
        refusal = publishRefusal(error)
      }
    }
  }
  const reason = refusal === null ? undefined : refusalText(refusal)
  if (reason === undefined) {
    const movedTo = await moveInto(join(dir, '.done'), path)
    options.onIntake?.({ fileName: name, ok: true, correlationId, movedTo })
    return
  }
  const movedTo = await moveInto(join(dir, '.failed'), path)
  await writeFile(`${movedTo}.reason.txt`, `${reason}\n`)
  options.bus.warn(`inbox: ${name} was not published (${reason}); moved to ${movedTo}`)
  options.onIntake?.({ fileName: name, ok: false, reason, movedTo })
}

/** Symlinks in the inbox whose target does not exist. */
async function danglingLinks(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => [])
  return entries.filter((e) => e.isSymbolicLink() && !isIgnoredName(e.name) && !existsSync(join(dir, e.name))).map((e) => join(dir, e.name))
}

/** Moves a file into `folder`, never over an earlier file of the same name. */
async function moveInto(folder: string, path: string): Promise<string> {
  await mkdir(folder, { recursive: true })
  const name = basename(path)
  const ext = extname(name)
  let target = join(folder, name)
  for (let n = 1; existsSync(target); n++) target = join(folder, `${name.slice(0, name.length - ext.length)}.${n}${ext}`)
  await rename(path, target)
  return target
}
