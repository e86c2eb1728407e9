import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { hasCode } from '../../src/errors.js'
import { loadProject } from '../../src/project/load.js'
import { STAGE_NAMES } from '../../src/pipeline/stages/names.js'
import { listingHost } from '../../src/pipeline/source.js'
import { contractText, scratchProject } from '../support/project.js'

const project = (files: Record<string, string>) => scratchProject(files)
const auditContract = contractText('audit.file.recorded', ['fileName'])

const audit = `
export const audit = defineConsumer({
  name: 'audit',
  subscribes: ['pipeline.file.delivered'],
  emits: ['audit.file.recorded'],
  handle(event, ctx) { ctx.emit({ type: 'audit.file.recorded', payload: { fileName: String((event.payload as { fileName?: string }).fileName) } }) },
})`

async function loadError(dir: string): Promise<Error & { code?: string; hint?: string }> {
  return (await loadProject({ cwd: dir }).then(() => new Error('loaded'), (e: unknown) => e)) as Error & { code?: string; hint?: string }
}

describe('the project config', () => {
  it('with no config, every command runs the built-in fund pipeline', async () => {
    const dir = project({})
    const p = await loadProject({ cwd: dir })
    expect(p.file).toBeUndefined()
    expect(p.names).toEqual(STAGE_NAMES)
    expect(p.own).toEqual([])
    expect(p.endings).toEqual(['pipeline.file.delivered', 'pipeline.file.rejected', 'pipeline.file.duplicate'])
  })

  it('is found in the folder or above; adds a consumer beside the preset, with its contracts', async () => {
    const dir = project({
      'pipeline.config.ts': `import { defineConfig, defineConsumer, fundPipeline } from EVENTSPINE\n${audit}\nexport default defineConfig({ consumers: [fundPipeline(), audit], contracts: './contracts' })`,
      'contracts/audit.file.recorded/v1.schema.json': auditContract,
      'sub/folder/.keep': '',
    })
    const p = await loadProject({ cwd: join(dir, 'sub', 'folder') })
    expect(p.file).toBe(join(dir, 'pipeline.config.ts'))
    expect(p.names).toEqual([...STAGE_NAMES, 'audit'])
    expect(p.own).toEqual(['audit'])
    expect(p.contractsDirs).toEqual([join(dir, 'contracts')])
    expect(p.warnings).toEqual([])
    // Delivered is read by audit, which emits: it stays the file's ending.
    expect(p.endings).toContain('pipeline.file.delivered')
  })

  it('replaces a stage by a consumer of the same name, in its place, and leaves stages out', async () => {
    const dir = project({
      'pipeline.config.ts': `import { defineConfig, defineConsumer, fundPipeline } from EVENTSPINE
const validate = defineConsumer({ name: 'validate', subscribes: ['pipeline.file.mapped'], emits: ['pipeline.file.validated', 'pipeline.file.rejected'], handle() {} })
export default defineConfig({ consumers: [fundPipeline({ without: ['nav-latest', 'file-journey'] }), validate] })`,
    })
    const p = await loadProject({ cwd: dir })
    expect(p.names).toEqual(['ingest', 'map', 'validate', 'enrich', 'resolve', 'score', 'deliver'])
    expect(p.own).toEqual(['validate'])
    const built = p.consumers({ ...listingHost() })
    expect(built.find((c) => c.name === 'validate')?.handle.toString()).toBe('handle() {}')
    // fuzz checks the team's validate as listed, and the preset's other stages with their fund inputs.
    expect((await p.fuzzTargets()).length).toBe(7)
  })

  it('factories are called per host, with its folder, namespace and Redis', async () => {
    const dir = project({
      'pipeline.config.ts': `import { defineConfig, defineConsumer } from EVENTSPINE
export default defineConfig({ consumers: [(env) => defineConsumer({ name: 'sink-' + env.namespace, subscribes: ['pipeline.file.delivered'], handle() {} })] })`,
    })
    const p = await loadProject({ cwd: dir })
    expect(p.consumers({ ...listingHost(), namespace: 'ns1' }).map((c) => c.name)).toEqual(['sink-ns1'])
    // Nothing in this config emits delivered: a warning (another service may), not an error.
    expect(p.warnings).toEqual([`nothing in ${join(dir, 'pipeline.config.ts')} emits pipeline.file.delivered, which sink-pipeline reads: another service must publish it`])
  })

  it('a config with no export names the file and shows the export to write', async () => {
    const dir = project({ 'pipeline.config.ts': 'export const nothing = 1\n' })
    const error = await loadError(dir)
    expect(error.code).toBe('E_CONFIG')
    expect(error.message).toBe(`${join(dir, 'pipeline.config.ts')} exports no pipeline config (a default export with a consumers list)`)
    expect(error.hint).toContain('export default defineConfig({ consumers: [fundPipeline(), myConsumer] })')
  })

  it('something in consumers that is not a consumer (an import that is not exported) is named by position', async () => {
    const dir = project({ 'pipeline.config.ts': `import { defineConfig, fundPipeline } from EVENTSPINE\nexport default defineConfig({ consumers: [fundPipeline(), undefined as never] })` })
    const error = await loadError(dir)
    expect(error.code).toBe('E_CONFIG')
    expect(error.message).toContain('consumers[1] in')
    expect(error.message).toContain('undefined (an import that is not exported?)')
  })

  it('two consumers with one name is an error naming both positions', async () => {
    const dir = project({
      'pipeline.config.ts': `import { defineConfig, defineConsumer, fundPipeline } from EVENTSPINE\n${audit}\nexport default defineConfig({ consumers: [fundPipeline(), audit, { ...audit }], contracts: './contracts' })`,
      'contracts/audit.file.recorded/v1.schema.json': auditContract,
    })
    const error = await loadError(dir)
    expect(error.code).toBe('E_CONFIG_DUPLICATE')
    expect(error.message).toBe(`consumers[1] and consumers[2] in ${join(dir, 'pipeline.config.ts')} are both named "audit"`)
  })

  it('a consumer reading a type with no contract says which file to add', async () => {
    const dir = project({
      'pipeline.config.ts': `import { defineConfig, defineConsumer } from EVENTSPINE
export default defineConfig({ consumers: [defineConsumer({ name: 'ledger', subscribes: ['account.credited'], handle() {} })] })`,
    })
    const error = await loadError(dir)
    expect(error.code).toBe('E_CONFIG_NO_CONTRACT')
    expect(error.message).toBe(`consumer "ledger" in ${join(dir, 'pipeline.config.ts')} reads account.credited, which has no contract`)
    expect(error.hint).toContain(join('account.credited', 'v1.schema.json'))
    expect(error.hint).toContain("contracts: './contracts'")
  })

  it('a module that throws on import: the message, and where in the project it threw', async () => {
    const dir = project({
      'pipeline.config.ts': `import { defineConfig } from EVENTSPINE\nimport { audit } from './consumers/audit.js'\nexport default defineConfig({ consumers: [audit] })`,
      'consumers/audit.ts': `export const audit = null\nthrow new Error('AUDIT_DSN is not set')\n`,
    })
    const error = await loadError(dir)
    expect(hasCode(error, 'E_CONFIG_IMPORT')).toBe(true)
    expect(error.message).toContain('failed to load: AUDIT_DSN is not set')
    expect(error.message).toMatch(/\(at .*consumers[/\\]audit\.ts:2\)$/)
    expect(error.hint).toMatch(/^Fix the error in .*consumers[/\\]audit\.ts:2/)
  })

  it('--config naming a file that does not exist', async () => {
    const error = (await loadProject({ cwd: project({}), configPath: 'nope.config.ts' }).catch((e: unknown) => e)) as { code: string; hint: string }
    expect(error.code).toBe('E_CONFIG')
    expect(error.hint).toContain('pipeline init')
  })

  it('fundPipeline({ without }) takes stage names only', async () => {
    const dir = project({ 'pipeline.config.ts': `import { defineConfig, fundPipeline } from EVENTSPINE\nexport default defineConfig({ consumers: [fundPipeline({ without: ['scor' as never] })] })` })
    const error = await loadError(dir)
    expect(error.code).toBe('E_CONFIG')
    expect(error.message).toBe('unknown stage "scor": did you mean score?')
  })
})
