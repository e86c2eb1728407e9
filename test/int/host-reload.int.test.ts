import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { startPipeline } from '../../src/pipeline/host/index.js'
import { loadProject } from '../../src/project/load.js'
import { watchProject } from '../../src/project/reload.js'
import { waitFor, streamEntries } from '../support/bus.js'
import { testNamespace, testRedisUrl } from '../support/namespace.js'
import { contractText, scratchProject } from '../support/project.js'

/** A team's pipeline of one consumer: counts ticks per key in its state and says which version of its code did. */
const counter = (version: string) => `import { defineConsumer } from EVENTSPINE
import { label } from './label.js'
export const counter = defineConsumer({
  name: 'counter',
  subscribes: ['demo.tick'],
  emits: ['demo.counted'],
  handle(event, ctx) {
    ctx.state.hincrby('counts', event.key, 1)
    ctx.emit({ type: 'demo.counted', payload: { by: label('${version}') } })
  },
})
`

/** The counter project, loaded, and a watch on its files. */
async function counterProject() {
  const dir = scratchProject({
    'pipeline.config.ts': `import { defineConfig } from EVENTSPINE\nimport { counter } from './consumers/counter.js'\nexport default defineConfig({ consumers: [counter], contracts: './contracts' })`,
    'consumers/counter.ts': counter('v1'),
    'consumers/label.ts': `export const label = (v: string) => 'counter ' + v\n`,
    'contracts/demo.tick/v1.schema.json': contractText('demo.tick', ['n']),
    'contracts/demo.counted/v1.schema.json': contractText('demo.counted', ['by']),
  })
  const project = await loadProject({ cwd: dir })
  return { dir, project, updates: await watchProject(project, { debounceMs: 50 }) }
}

describe('up reloads the consumers whose code changed', () => {
  it('drains the old version, starts the new one, and applies every event exactly once', async () => {
    const { dir, project, updates } = await counterProject()
    // What the config imports, and nothing from node_modules or eventspine itself.
    expect(updates.files().map((f) => f.slice(dir.length + 1)).sort()).toEqual(['consumers/counter.ts', 'consumers/label.ts', 'pipeline.config.ts'])
    const pipeline = await startPipeline({ url: testRedisUrl(), namespace: testNamespace('reload'), projectDir: dir, source: project, updates, snapshotIntervalMs: 100 })
    try {
      const publish = (from: number, count: number) =>
        pipeline.bus.publish(Array.from({ length: count }, (_, i) => ({ type: 'demo.tick', key: `k${(from + i) % 5}`, payload: { n: String(from + i) } })))
      await publish(0, 100)
      // A change in a module the consumer imports, not the consumer's own file, is a change too.
      writeFileSync(join(dir, 'consumers', 'label.ts'), `export const label = (v: string) => 'counter ' + v + ' (edited)'\n`)
      await publish(100, 100)
      const note = await waitFor(() => pipeline.snapshot().reload ?? null, { what: 'the reload' })
      expect(note).toMatchObject({ ok: true, restarted: ['counter'], added: [], removed: [], error: null })
      await publish(200, 100)
      const counted = await waitFor(async () => {
        const entries = await streamEntries(pipeline.bus, 'demo.counted')
        return entries.length >= 300 ? entries : null
      }, { what: '300 counted events' })
      expect(counted).toHaveLength(300)
      const by = counted.map((e) => (JSON.parse(e['payload'] ?? '{}') as { by: string }).by)
      expect(by.at(-1)).toBe('counter v1 (edited)')
      expect(new Set(by)).toEqual(new Set(['counter v1', 'counter v1 (edited)']))
      const counts = await pipeline.bus.redis.hgetall(pipeline.bus.keys.state('counter', 'counts'))
      expect(Object.values(counts).reduce((a, n) => a + Number(n), 0)).toBe(300)
      expect(pipeline.runners().map((r) => r.consumer.name)).toEqual(['counter'])
    } finally {
      await pipeline.stop()
      await updates.close()
    }
  })

  it('new code that fails to load keeps the old version running, and says why', async () => {
    const { dir, project, updates } = await counterProject()
    const pipeline = await startPipeline({ url: testRedisUrl(), namespace: testNamespace('reload'), projectDir: dir, source: project, updates, snapshotIntervalMs: 100 })
    try {
      const before = pipeline.runners()[0]
      writeFileSync(join(dir, 'consumers', 'counter.ts'), `${readFileSync(join(dir, 'consumers', 'counter.ts'), 'utf8')}\nthrow new Error('half-saved edit')\n`)
      const note = await waitFor(() => pipeline.snapshot().reload ?? null, { what: 'the failed reload' })
      expect(note.ok).toBe(false)
      expect(note.error).toContain('half-saved edit')
      expect(pipeline.runners()[0]).toBe(before)
      await pipeline.bus.publish([{ type: 'demo.tick', key: 'k1', payload: { n: '1' } }])
      await waitFor(async () => ((await streamEntries(pipeline.bus, 'demo.counted')).length === 1 ? true : null), { what: 'the old version handling' })
    } finally {
      await pipeline.stop()
      await updates.close()
    }
  })
})
