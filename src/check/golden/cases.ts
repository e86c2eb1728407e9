import { existsSync, statSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { join, relative, resolve, sep } from 'node:path'
import type { ContractChecker } from '../../bus/contracts.js'
import { EventspineError } from '../../errors.js'
import { closestName } from '../../names.js'
import type { ConsumerUnderTest } from '../types.js'
import { readCaseFile, type FileCase } from './case-file.js'
import { goldenContracts, instantiate, runCase } from './spec.js'

export interface GoldenFilesOptions {
  /** Case files, or folders to search for `*.case.json`. Default: the project folder. */
  readonly paths?: readonly string[]
  /** The project whose consumers the cases name. */
  readonly project: GoldenProject
  /** Where relative paths start. Default: the current directory. */
  readonly cwd?: string
  /** Contract folders beside the shipped ones and the config's. */
  readonly contracts?: readonly string[]
  readonly onCase?: (result: GoldenCaseResult) => void
  /** When loading began (the caller loaded the project first), so `setupMs` counts it. Default: now. */
  readonly startedAt?: number
}

export interface GoldenCaseResult {
  /** The case file, relative to the project folder. */
  readonly file: string
  readonly consumer: string
  readonly name: string
  readonly passed: boolean
  readonly durationMs: number
  readonly failure: string | null
}

export interface GoldenReport {
  readonly passed: boolean
  readonly projectDir: string
  readonly results: readonly GoldenCaseResult[]
  /** Running the cases. */
  readonly durationMs: number
  /** Loading the project (its config, a TypeScript one through tsx), reading the case files, compiling the contracts. */
  readonly setupMs: number
}

/** Folders a search never enters: dependencies, VCS, the tool's own data, build output. */
const SKIP = new Set(['node_modules', '.git', '.pipeline', 'dist'])
const CASE_SUFFIX = '.case.json'

/**
 * `pipeline test`: finds the case files, reads them all (a bad one stops the run before any
 * case runs), looks up each case's consumer in the project and runs the cases one by one,
 * each on a fresh instance, without Redis.
 */
export async function runGoldenFiles(options: GoldenFilesOptions): Promise<GoldenReport> {
  const started = options.startedAt ?? performance.now()
  const cwd = resolve(options.cwd ?? process.cwd())
  const project = options.project
  const paths = options.paths ?? []
  const files = paths.length > 0 ? await expandPaths(paths.map((p) => resolve(cwd, p))) : await findCaseFiles(project.dir)
  if (files.length === 0) {
    throw new EventspineError('E_GOLDEN_NO_CASES', `no case files (*${CASE_SUFFIX}) under ${paths.length > 0 ? paths.join(', ') : project.dir}`, {
      hint: `Write one beside your consumer, e.g. consumers/audit.case.json, or pass its path: pipeline test FILE. See pipeline test --help for the format.`,
      details: { usage: true },
    })
  }
  const cases: FileCase[] = []
  const label = (file: string) => relative(cwd, file) || file
  for (const file of files) cases.push(...(await readCaseFile(file, label(file))))
  const consumers = new Map<string, ConsumerUnderTest>()
  for (const c of cases) if (!consumers.has(c.consumer)) consumers.set(c.consumer, consumerOf(project, c.consumer, label(c.file)))
  const extra = options.contracts ?? []
  const contracts = extra.length === 0 && project.contracts !== undefined ? project.contracts : goldenContracts([...project.contractsDirs, ...extra])
  const results: GoldenCaseResult[] = []
  const running = performance.now()
  for (const c of cases) {
    const { definition, dispose } = await instantiate(consumers.get(c.consumer) as ConsumerUnderTest)
    try {
      const outcome = await runCase(definition, c, contracts)
      const result = { file: relative(project.dir, c.file).split(sep).join('/'), consumer: c.consumer, name: c.name, passed: outcome.passed, durationMs: outcome.durationMs, failure: outcome.failure }
      results.push(result)
      options.onCase?.(result)
    } finally {
      await dispose()
    }
  }
  const ended = performance.now()
  return { passed: results.every((r) => r.passed), projectDir: project.dir, results, durationMs: ended - running, setupMs: running - started }
}

/** The project's consumers as `pipeline test` needs them (src/project/ builds it from the config). */
export interface GoldenProject {
  /** The config's folder (case files are searched there), else the current one. */
  readonly dir: string
  /** The config's contract folders. */
  readonly contractsDirs: readonly string[]
  /** Its contracts, compiled already when it loaded (used unless --contracts adds folders). */
  readonly contracts?: ContractChecker
  /** Every consumer of the project, by name: definitions, or factories built afresh per case. */
  readonly consumers: ReadonlyMap<string, ConsumerUnderTest>
}

/** The consumer a case names; an unknown name is a usage error naming the file. */
function consumerOf(project: GoldenProject, name: string, file: string): ConsumerUnderTest {
  const found = project.consumers.get(name)
  if (found !== undefined) return found
  const known = [...project.consumers.keys()].sort()
  const closest = closestName(name, known)
  throw new EventspineError('E_GOLDEN_UNKNOWN_CONSUMER', `${file}: unknown consumer "${name}"${closest === undefined ? '' : `: did you mean ${closest}?`}`, {
    hint: `Name a consumer of the project (pipeline.config's, or the built-in pipeline's without one): ${known.join(', ')}.`,
    details: { usage: true, file, input: name, known, ...(closest === undefined ? {} : { closest }) },
  })
}

async function expandPaths(paths: readonly string[]): Promise<string[]> {
  const out: string[] = []
  for (const path of paths) {
    if (!existsSync(path)) throw new EventspineError('E_GOLDEN_NO_CASES', `${path} does not exist`, { hint: 'Pass case files or folders that hold *.case.json files.', details: { usage: true } })
    out.push(...(statSync(path).isDirectory() ? await findCaseFiles(path) : [path]))
  }
  return [...new Set(out)]
}

/** Every `*.case.json` under `dir`, sorted, outside the folders a search skips. */
async function findCaseFiles(dir: string): Promise<string[]> {
  const out: string[] = []
  const walk = async (at: string): Promise<void> => {
    for (const entry of await readdir(at, { withFileTypes: true })) {
      if (entry.isDirectory()) {
        if (!SKIP.has(entry.name)) await walk(join(at, entry.name))
      } else if (entry.name.endsWith(CASE_SUFFIX)) out.push(join(at, entry.name))
    }
  }
  await walk(dir)
  return out.sort()
}
