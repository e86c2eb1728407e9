import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { beforeAll, describe, expect, it } from 'vitest'

// The README's TypeScript samples compile against this package's sources, so the docs cannot
// drift from the API. Each ```ts block is a module of its own; mark one ```ts nocheck to leave
// it out. `eventspine` and `eventspine/testing` map to src/, and a sample's own relative
// imports (`./src/ledger.js`) resolve in test/fixtures-readme/, where the samples are placed
// (in memory: nothing is written).

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const readme = readFileSync(join(root, 'README.md'), 'utf8')
const sampleDir = join(root, 'test', 'fixtures-readme')

interface Sample {
  /** Where the sample comes from, for messages: `README.md`. */
  readonly source: string
  /** Line of `source` where the code starts. */
  readonly firstLine: number
  readonly code: string
}

function tsSamples(markdown: string): Sample[] {
  const samples: Sample[] = []
  const lines = markdown.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)(.*)$/.exec(lines[i] ?? '')
    if (open === null) continue
    const end = lines.findIndex((line, j) => j > i && line.startsWith('```'))
    if (end === -1) throw new Error(`README.md:${i + 1}: code block never closed`)
    const checked = ['ts', 'typescript', 'tsx'].includes(open[1] ?? '') && !/\bnocheck\b/.test(open[2] ?? '')
    if (checked) samples.push({ source: 'README.md', firstLine: i + 2, code: lines.slice(i + 1, end).join('\n') })
    i = end
  }
  return samples
}

/** The repo's compiler options (strict and the rest), with the package name mapped to src/. */
function compilerOptions(): ts.CompilerOptions {
  const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'))
    },
  })
  if (config === undefined) throw new Error('tsconfig.json could not be read')
  return {
    ...config.options,
    noEmit: true,
    // Only Node's globals: a sample imports what else it uses (vitest's `it` too), and leaving
    // out the other @types (react's pulls in csstype) keeps the program small.
    types: ['node'],
    paths: { eventspine: [join(root, 'src', 'index.ts')], 'eventspine/testing': [join(root, 'src', 'testing.ts')] },
  }
}

/** Type-checks the samples as files of sampleDir, in one program; returns `<source>:<line>: <message>` per diagnostic. */
function typeCheck(samples: readonly Sample[]): string[] {
  const options = compilerOptions()
  const virtual = new Map(samples.map((s, i) => [join(sampleDir, `sample-${i}.ts`), s]))
  const host = ts.createCompilerHost(options)
  const { fileExists, readFile, getSourceFile } = host
  host.fileExists = (file) => virtual.has(file) || fileExists.call(host, file)
  host.readFile = (file) => virtual.get(file)?.code ?? readFile.call(host, file)
  host.getSourceFile = (file, language, ...rest) => {
    const sample = virtual.get(file)
    return sample === undefined ? getSourceFile.call(host, file, language, ...rest) : ts.createSourceFile(file, sample.code, language, true)
  }
  const program = ts.createProgram({ rootNames: [...virtual.keys()], options, host })
  const where = (d: ts.Diagnostic): string => {
    if (d.file === undefined || d.start === undefined) return 'README.md'
    const sample = virtual.get(d.file.fileName)
    const { line } = d.file.getLineAndCharacterOfPosition(d.start)
    return sample === undefined ? `${d.file.fileName}:${line + 1}` : `${sample.source}:${sample.firstLine + line}`
  }
  const diagnostics = [
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...[...virtual.keys()].flatMap((file) => {
      const sf = program.getSourceFile(file)
      if (sf === undefined) throw new Error(`${file} is not in the program`)
      return [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)]
    }),
  ]
  return diagnostics.map((d) => `${where(d)}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`)
}

/** Paths the README cites in backticks (`src/bus/apply.ts`, `test/check/broken/`); globs match at least one file. */
function citedPaths(markdown: string): string[] {
  const cited = [...markdown.matchAll(/`((?:src|test|bench|contracts|fixtures|scripts)\/[^`\s]*)`/g)].map((m) => m[1] ?? '')
  return [...new Set(cited)].filter((p) => !p.includes('<'))
}

function exists(path: string): boolean {
  if (!path.includes('*')) return existsSync(join(root, path))
  const pattern = new RegExp(`^${basename(path).replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`)
  const dir = join(root, dirname(path))
  return existsSync(dir) && readdirSync(dir).some((name) => pattern.test(name))
}

// A sample known to be wrong, checked with the README's: the check must report it, at its line.
const broken: Sample = { source: 'broken-sample', firstLine: 1, code: "import { createBus } from 'eventspine'\n\nconst bus: number = createBus\n" }

describe('README', () => {
  const samples = tsSamples(readme)
  let problems: string[] = []
  // One program for all samples: building it (parsing src/ and the libraries' types) is most of the time.
  beforeAll(() => {
    problems = typeCheck([...samples, broken])
  })

  it('has TypeScript samples that compile against the sources with the strict options', () => {
    expect(samples.length).toBeGreaterThanOrEqual(4)
    expect(problems.filter((p) => !p.startsWith(`${broken.source}:`))).toEqual([])
  })

  it('reports a broken sample at its line', () => {
    const reported = problems.filter((p) => p.startsWith(`${broken.source}:`))
    expect(reported).toHaveLength(1)
    expect(reported[0]).toMatch(/^broken-sample:3: Type .* is not assignable to type 'number'/)
  })

  it('cites files that exist', () => {
    const cited = citedPaths(readme)
    expect(cited).toContain('src/check/driver.ts')
    expect(cited.filter((p) => !exists(p))).toEqual([])
  })
})

// ARCHITECTURE.md names modules relative to the repository, to src/, or by file name alone (in
// the table of a layer): each must still exist, so the map cannot point at a module that moved.
describe('ARCHITECTURE.md', () => {
  const text = readFileSync(join(root, 'ARCHITECTURE.md'), 'utf8')
  const sources = listFiles(join(root, 'src')).map((p) => p.slice(root.length + 1))

  function listFiles(dir: string): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name)) : [join(dir, e.name)]))
  }

  it('cites modules that exist', () => {
    const cited = [...new Set([...text.matchAll(/`([\w./-]+\.(?:ts|lua|mjs))`/g)].map((m) => m[1] ?? ''))]
    expect(cited).toContain('src/bus/wave-engine.ts')
    const missing = cited.filter((p) => !existsSync(join(root, p)) && !existsSync(join(root, 'src', p)) && !sources.some((s) => s.endsWith(`/${p}`)))
    expect(missing).toEqual([])
  })
})
