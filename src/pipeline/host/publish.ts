import { readdir, readFile, stat } from 'node:fs/promises'
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { createBus } from '../../bus/bus.js'
import { EventspineError } from '../../errors.js'
import { defaultContractsDir, loadContracts } from '../../events/index.js'
import { resolveRedis } from '../../redis/index.js'
import { awaitEndings, type FileEnding } from '../ending.js'
import { routedReceived } from '../ingest.js'
import { receivedEvent } from '../intake.js'
import { readRuntime } from './collect.js'

export interface PublishedFile {
  readonly file: string
  readonly correlationId: string
  readonly eventId: string
  /** With `waitMs`: how its journey ended, or null when it had not within the wait. */
  readonly ending?: FileEnding | null
}

export interface PublishResult {
  readonly files: readonly PublishedFile[]
  /** False when no `pipeline up` refreshed the runtime key lately: nothing may process them. */
  readonly pipelineUp: boolean
}

/**
 * Publishes files (paths or globs) as `pipeline.file.received`, one event each. Every argument
 * is checked before anything is sent: a missing file, a glob with no match or a directory is
 * an error naming it. Never starts Redis.
 */
export async function publishFiles(options: { patterns: readonly string[]; cwd: string; redisUrl?: string | undefined; namespace: string; waitMs?: number }): Promise<PublishResult> {
  const files: string[] = []
  for (const pattern of options.patterns) files.push(...(await expand(pattern, options.cwd)))
  const redis = await resolveRedis({ url: options.redisUrl, projectDir: options.cwd, startIfMissing: false })
  const bus = await createBus({ url: redis.url, namespace: options.namespace, contracts: loadContracts(defaultContractsDir()), warn: () => {} })
  try {
    const out: PublishedFile[] = []
    for (const file of files) {
      const content = await readFile(file)
      const [published] = await bus.publish(routedReceived(receivedEvent(basename(file), content, { sourcePath: file }), bus.partitionCount))
      const shown = relative(options.cwd, file)
      if (published) out.push({ file: shown === '' || shown.startsWith('..') ? file : shown, correlationId: published.correlationId, eventId: published.id })
    }
    const pipelineUp = (await readRuntime(bus)) !== null
    if (options.waitMs === undefined) return { files: out, pipelineUp }
    const endings = await awaitEndings(bus, out.map((f) => f.correlationId), options.waitMs)
    return { files: out.map((f, i) => ({ ...f, ending: endings[i] ?? null })), pipelineUp }
  } finally {
    await bus.close()
  }
}

const GLOB = /[*?[{]/

/** A path, or a glob (`*`, `?`, `**`, `[...]`, `{a,b}`) matched against files under its fixed prefix. */
export async function expand(pattern: string, cwd: string): Promise<string[]> {
  const path = resolve(cwd, pattern)
  // A file whose name holds glob characters (`report[1].csv`) is that file, not a pattern.
  if (GLOB.test(pattern) && (await stat(path).catch(() => null))?.isFile() === true) return [path]
  if (!GLOB.test(pattern)) {
    const info = await stat(path).catch(() => null)
    if (info === null) throw new EventspineError('E_PUBLISH_MISSING', `no such file: ${pattern}`, { hint: 'Check the path (relative paths start from the current directory).' })
    if (info.isDirectory()) throw new EventspineError('E_PUBLISH_DIRECTORY', `${pattern} is a directory`, { hint: `Publish its files with a glob, e.g. '${join(pattern, '*')}'.` })
    return [path]
  }
  const parts = pattern.split(/[\\/]/)
  const fixed: string[] = []
  while (parts.length > 1 && !GLOB.test(parts[0] as string)) fixed.push(parts.shift() as string)
  const base = isAbsolute(pattern) ? resolve('/', ...fixed) : resolve(cwd, ...fixed)
  const matcher = globRegExp(parts.join('/'))
  const dotsAllowed = parts.some((s) => s.startsWith('.'))
  const entries = (await readdir(base, { recursive: parts.includes('**') || parts.length > 1, withFileTypes: true }).catch(() => []))
  const matches = entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name))
    .map((p) => ({ p, rel: relative(base, p).split(sep).join('/') }))
    // As in a shell, wildcards do not match dotfiles (or files in dot-folders) unless spelled out.
    .filter(({ rel }) => matcher.test(rel) && (dotsAllowed || !rel.split('/').some((s) => s.startsWith('.'))))
    .map(({ p }) => p)
    .sort()
  if (matches.length === 0) throw new EventspineError('E_PUBLISH_NO_MATCH', `no file matches ${pattern}`, { hint: 'Quote the glob so the shell does not expand it, and check the folder.' })
  return matches
}

function globRegExp(glob: string): RegExp {
  let re = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string
    if (c === '*' && glob[i + 1] === '*') {
      re += glob[i + 2] === '/' ? '(?:.*/)?' : '.*'
      i += glob[i + 2] === '/' ? 2 : 1
    } else if (c === '*') re += '[^/]*'
    else if (c === '?') re += '[^/]'
    else if (c === '{') {
      const end = glob.indexOf('}', i)
      if (end < 0) re += '\\{'
      else {
        re += `(?:${glob.slice(i + 1, end).split(',').map(escape).join('|')})`
        i = end
      }
    } else if (c === '[') {
      const end = glob.indexOf(']', i)
      const set = end < 0 ? '' : `[${glob.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`
      // No closing bracket, or no valid set (`[z-a]`): a plain `[`, as in a shell.
      if (set === '' || !validRegExp(set)) re += '\\['
      else {
        re += set
        i = end
      }
    } else re += escape(c)
  }
  return new RegExp(`^${re}$`)
}

function validRegExp(source: string): boolean {
  try {
    return new RegExp(source) instanceof RegExp
  } catch {
    return false
  }
}

function escape(text: string): string {
  return text.replace(/[.+^${}()|[\]\\*?]/g, '\\$&')
}
