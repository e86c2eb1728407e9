import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path'
import { EventspineError } from '../errors.js'
import { packageRoot } from '../pipeline/paths.js'

export interface InitOptions {
  /** The folder to scaffold (made when missing). */
  readonly dir: string
  /** Overwrite files that exist. Default: refuse, naming them. */
  readonly force?: boolean
  /** The eventspine dependency of the scaffold's package.json (see {@link eventspineSpec}). Default: `^<this version>`. */
  readonly eventspine?: string
}

export interface InitResult {
  readonly dir: string
  /** What was written, relative to `dir`. */
  readonly files: readonly string[]
  /** Of those, the ones that existed (only with `force`). */
  readonly overwritten: readonly string[]
  readonly eventspine: string
  /** True when the dependency names the npm registry, where eventspine is not published. */
  readonly fromRegistry: boolean
}

/** The sample fund file the scaffold gets, from the shipped fixtures. */
const SAMPLE = 'northwind-nav-2026-11-24.csv'
/** npm leaves a package's .gitignore files out of its tarball: the template is kept without the dot. */
const RENAMED: Readonly<Record<string, string>> = { gitignore: '.gitignore' }

/**
 * Scaffolds a project that runs the fund pipeline with a consumer of its own (`pipeline init`):
 * package.json, pipeline.config.ts, the consumer, its contract and test, a sample file, a README.
 * Refuses to overwrite a file that exists unless `force`.
 */
export function initProject(options: InitOptions): InitResult {
  const dir = resolve(options.dir)
  if (existsSync(dir) && !statSync(dir).isDirectory()) {
    throw new EventspineError('E_INIT_EXISTS', `${dir} exists and is not a folder`, { hint: 'Give pipeline init a folder to scaffold (made when missing).' })
  }
  const root = packageRoot()
  const ours = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Manifest
  const eventspine = options.eventspine ?? `^${ours.version}`
  const plan = new Map<string, string | Buffer>()
  const templates = join(root, 'templates', 'init')
  for (const file of filesUnder(templates)) {
    const target = join(dirname(file), RENAMED[basename(file)] ?? basename(file))
    plan.set(target, readFileSync(join(templates, file)))
  }
  plan.set('package.json', manifestFor(JSON.parse(readFileSync(join(templates, 'package.json'), 'utf8')) as Manifest, { name: packageName(dir), eventspine, ours }))
  plan.set(join('samples', SAMPLE), readFileSync(join(root, 'fixtures', 'inbox', SAMPLE)))

  const existing = [...plan.keys()].filter((f) => existsSync(join(dir, f))).sort()
  if (existing.length > 0 && options.force !== true) {
    throw new EventspineError('E_INIT_EXISTS', `${dir} already has ${existing.length === 1 ? 'a file' : 'files'} pipeline init would write: ${existing.join(', ')}`, {
      hint: 'Pass --force to overwrite them, or give pipeline init another folder.',
    })
  }
  for (const [file, content] of plan) {
    mkdirSync(dirname(join(dir, file)), { recursive: true })
    writeFileSync(join(dir, file), content)
  }
  return { dir, files: [...plan.keys()].sort(), overwritten: existing, eventspine, fromRegistry: !/^(file|link|git|git\+\w+|https?|github|gitlab|bitbucket):/.test(eventspine) }
}

/**
 * `--eventspine`: an npm dependency spec. A path to a tarball or folder (`./eventspine-0.1.0.tgz`,
 * `file:../eventspine`) becomes an absolute `file:` spec, as npm resolves a relative one from the
 * scaffold's folder, not from where init ran; a path that does not exist is an error.
 */
export function eventspineSpec(value: string, cwd: string): string {
  const spec = value.trim()
  if (spec === '') throw new EventspineError('E_FLAG', '--eventspine is empty', { hint: 'Give an npm spec such as ^0.1.0, or the path of a tarball: file:/path/eventspine-0.1.0.tgz.' })
  const path = spec.startsWith('file:') ? spec.slice('file:'.length) : /^(\.{1,2}\/|\/)|\.tgz$/.test(spec) ? spec : undefined
  if (path === undefined) return spec
  const absolute = isAbsolute(path) ? path : resolve(cwd, path)
  if (!existsSync(absolute)) throw new EventspineError('E_FLAG', `--eventspine ${spec}: no such file or folder (${absolute})`, { hint: 'Run `npm pack` in a clone of eventspine and pass the tarball it wrote.' })
  return `file:${absolute}`
}

interface Manifest {
  name?: string
  version?: string
  engines?: Record<string, string>
  dependencies?: Record<string, string>
  devDependencies?: Record<string, string>
  [key: string]: unknown
}

/** The template's package.json with the project's name, our engines and the dependency specs eventspine itself is tested with. */
function manifestFor(template: Manifest, values: { name: string; eventspine: string; ours: Manifest }): string {
  const dev = (name: string) => values.ours.devDependencies?.[name] ?? 'latest'
  const manifest: Manifest = {
    ...template,
    name: values.name,
    ...(values.ours.engines === undefined ? {} : { engines: values.ours.engines }),
    dependencies: { ...template.dependencies, eventspine: values.eventspine },
    devDependencies: Object.fromEntries(Object.keys(template.devDependencies ?? {}).map((name) => [name, dev(name)])),
  }
  return `${JSON.stringify(manifest, null, 2)}\n`
}

/** An npm package name from the folder's name: lower case, only the characters npm allows. */
function packageName(dir: string): string {
  const name = basename(dir).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[._-]+/, '').slice(0, 214)
  return name === '' ? 'my-pipeline' : name
}

/** Every file below `dir`, as paths relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort()
}
