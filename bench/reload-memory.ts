/**
 * `npm run bench:reload [-- --reloads 50]`: what `up`'s hot reload costs in memory. Node never
 * frees an ES module, so each reload (a fresh tsx import of the config and what it imports)
 * keeps its modules for the life of the process. This loads a small project the way `up`
 * reloads it, `--reloads` times, and prints heap and RSS after a full GC: before, after, and per
 * reload. A project that imports eventspine from node_modules reloads eventspine too (the
 * namespace covers the whole graph), so the per-reload figure is an upper bound for a typical
 * config. Run with `node --expose-gc` (the npm script does).
 */
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { loadProject } from '../src/project/load.js'

const { values } = parseArgs({ options: { reloads: { type: 'string', default: '50' } } })
const reloads = Number(values.reloads)
const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error('run with node --expose-gc (npm run bench:reload)')

const dir = mkdtempSync(join(tmpdir(), 'eventspine-reload-bench-'))
const lib = JSON.stringify(resolve('src/index.ts'))
const files: Record<string, string> = {
  'package.json': '{ "type": "module" }\n',
  'pipeline.config.ts': `import { defineConfig, fundPipeline } from ${lib}\nimport { audit } from './consumers/audit.js'\nexport default defineConfig({ consumers: [fundPipeline(), audit] })\n`,
  'consumers/audit.ts': `import { defineConsumer } from ${lib}\nexport const audit = defineConsumer({ name: 'audit', subscribes: ['pipeline.file.delivered'], handle(event, ctx) { ctx.state.hincrby('files', 'delivered', 1) } })\n`,
}
for (const [name, text] of Object.entries(files)) {
  mkdirSync(join(dir, name, '..'), { recursive: true })
  writeFileSync(join(dir, name), text)
}

const sample = () => {
  gc()
  const m = process.memoryUsage()
  return { heapMb: m.heapUsed / 2 ** 20, rssMb: m.rss / 2 ** 20 }
}
await loadProject({ cwd: dir })
const before = sample()
const started = performance.now()
for (let generation = 1; generation <= reloads; generation++) {
  await loadProject({ cwd: dir, fresh: { generation, onImport: () => {} } })
}
const ms = (performance.now() - started) / reloads
const after = sample()
const f = (n: number) => n.toFixed(1)
console.log(`reloads ${reloads}: heap ${f(before.heapMb)} -> ${f(after.heapMb)} MB (+${f((after.heapMb - before.heapMb) / reloads)} MB each), rss ${f(before.rssMb)} -> ${f(after.rssMb)} MB (+${f((after.rssMb - before.rssMb) / reloads)} MB each), ${f(ms)} ms per reload`)
