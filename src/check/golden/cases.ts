import { existsSync, statSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { EventspineError } from '../../errors.js'
import { closestName } from '../../names.js'
import { builtinConsumerNames, builtinTargets } from '../builtin/index.js'
import { findConfig, loadConfig } from '../config.js'
import type { ConsumerUnderTest } from '../types.js'
import { readCaseFile, type FileCase } from './case-file.js'
import { goldenContracts, instantiate, runCase } from './spec.js'

export interface GoldenFilesOptions {
  /** Case files, or folders to search for `*.case.json`. Default: the project folder. */
  readonly paths?: readonly string[]
  /** Where the project is looked for. Default: the current directory. */
  readonly cwd?: string
  /** Contract folders beside the shipped ones and the config's. */
  readonly contracts?: readonly string[]
  readonly onCase?: (result: GoldenCaseResult) => void
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
export async function runGoldenFiles(options: GoldenFilesOptions = {}): Promise<GoldenReport> {
  const started = performance.now()
  const cwd = resolve(options.cwd ?? process.cwd())
  const project = await loadProject(cwd)
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
  for (const c of cases) if (!consumers.has(c.consumer)) consumers.set(c.consumer, project.consumer(c.consumer, label(c.file)))
  const contracts = goldenContracts([...(project.contractsDir ? [project.contractsDir] : []), ...(options.contracts ?? [])])
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

interface Project {
  readonly dir: string
  readonly contractsDir?: string
  /** The consumer a case names; an unknown name is a usage error naming the file. */
  consumer(name: string, file: string): ConsumerUnderTest
}

/**
 * The project's consumers by name: the config's (a team's own `validate` replaces the built-in
 * one), then the built-in pipeline. The one place that knows where consumers come from, so
 * moving to the project loader changes only this function.
 */
async function loadProject(cwd: string): Promise<Project> {
  const configPath = findConfig(cwd)
  const config = configPath ? await loadConfig(configPath) : undefined
  const byName = new Map<string, ConsumerUnderTest>()
  for (const name of builtinConsumerNames()) byName.set(name, (builtinTargets([name])[0] as { consumer: ConsumerUnderTest }).consumer)
  for (const { consumer } of config?.targets ?? []) {
    const name = typeof consumer === 'function' ? consumer({ tmpDir: tmpdir(), namespace: 'golden', redisUrl: '' }).name : consumer.name
    byName.set(name, consumer)
  }
  return {
    dir: configPath ? dirname(configPath) : cwd,
    ...(config?.contractsDir ? { contractsDir: config.contractsDir } : {}),
    consumer(name, file) {
      const found = byName.get(name)
      if (found !== undefined) return found
      const known = [...byName.keys()].sort()
      const closest = closestName(name, known)
      throw new EventspineError('E_GOLDEN_UNKNOWN_CONSUMER', `${file}: unknown consumer "${name}"${closest === undefined ? '' : `: did you mean ${closest}?`}`, {
        hint: `Name a consumer of the project (pipeline.config's or a built-in one): ${known.join(', ')}.`,
        details: { usage: true, file, input: name, known, ...(closest === undefined ? {} : { closest }) },
      })
    },
  }
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
