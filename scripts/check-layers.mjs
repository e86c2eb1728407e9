#!/usr/bin/env node
// Enforces the layers of ARCHITECTURE.md (its Layers table) on src/ and refuses import cycles (value imports only:
// `import type` is erased at build time and cannot form a runtime cycle).
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

const root = resolve(dirname(new URL(import.meta.url).pathname), '..', 'src')

// layer -> layers it must not import
const forbidden = {
  events: ['bus', 'redis', 'postgres', 'outbox', 'pipeline', 'sim', 'check', 'project', 'ui', 'cli', 'commands'],
  redis: ['bus', 'events', 'postgres', 'outbox', 'pipeline', 'sim', 'check', 'project', 'ui', 'cli', 'commands'],
  postgres: ['bus', 'events', 'outbox', 'pipeline', 'sim', 'check', 'project', 'ui', 'cli', 'commands'],
  bus: ['postgres', 'outbox', 'pipeline', 'sim', 'check', 'project', 'ui', 'cli', 'commands'],
  outbox: ['pipeline', 'sim', 'check', 'project', 'ui', 'cli', 'commands'],
  pipeline: ['sim', 'check', 'project', 'ui', 'cli', 'commands'],
  sim: ['check', 'project', 'ui', 'cli', 'commands'],
  check: ['sim', 'project', 'ui', 'cli', 'commands'],
  project: ['sim', 'ui', 'cli', 'commands'],
  ui: ['project', 'cli', 'commands'],
  cli: ['commands'],
  commands: [],
}

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return files(path)
    return /\.tsx?$/.test(name) && !name.endsWith('.d.ts') ? [path] : []
  })
}

const IMPORT = /^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+['"](\.[^'"]+)['"]|^\s*import\s+['"](\.[^'"]+)['"]/gm
// import('./x.js'), as commands load their modules when they run: bound by the layers too, but
// no cycle edge (it runs after every module involved has loaded).
const DYNAMIC_IMPORT = /\bimport\(\s*['"](\.[^'"]+)['"]\s*\)/g
const layerOf = (file) => relative(root, file).split('/')[0].replace(/\.tsx?$/, '')
const resolveTs = (from, spec) => {
  const base = resolve(dirname(from), spec).replace(/\.js$/, '')
  for (const candidate of [`${base}.ts`, `${base}.tsx`, join(base, 'index.ts')]) {
    try {
      if (statSync(candidate).isFile()) return candidate
    } catch {}
  }
  return undefined
}

const problems = []
const graph = new Map()
for (const file of files(root)) {
  const text = readFileSync(file, 'utf8')
  const edges = []
  const imports = [
    ...[...text.matchAll(IMPORT)].map((m) => ({ spec: m[3] ?? m[4], value: !m[2] && !/^\s*export\s+type/.test(m[0]) })),
    ...[...text.matchAll(DYNAMIC_IMPORT)].map((m) => ({ spec: m[1], value: false })),
  ]
  for (const { spec, value } of imports) {
    const target = resolveTs(file, spec)
    if (!target) continue
    const from = layerOf(file)
    const to = layerOf(target)
    if (to === 'commands' && from !== 'commands') problems.push(`${relative(root, file)} imports ${spec}: nothing imports commands/`)
    if (forbidden[from]?.includes(to)) problems.push(`${relative(root, file)} imports ${spec}: ${from}/ must not import ${to}/`)
    if (value) edges.push(target)
  }
  graph.set(file, edges)
}

// Cycles among value imports (Tarjan would be tidier; a DFS with colours is enough here).
const colour = new Map()
const stack = []
function visit(node) {
  colour.set(node, 'grey')
  stack.push(node)
  for (const next of graph.get(node) ?? []) {
    if (colour.get(next) === 'grey') {
      const cycle = stack.slice(stack.indexOf(next)).concat(next).map((f) => relative(root, f))
      problems.push(`import cycle: ${cycle.join(' -> ')}`)
    } else if (!colour.has(next)) visit(next)
  }
  stack.pop()
  colour.set(node, 'black')
}
for (const node of graph.keys()) if (!colour.has(node)) visit(node)

if (problems.length > 0) {
  console.error(`Layer check failed (${problems.length}):\n  ${[...new Set(problems)].join('\n  ')}`)
  process.exit(1)
}
console.log(`Layer check: ${graph.size} files, layers respected, no import cycles.`)
