import { describe, expect, it } from 'vitest'
import { resolve } from 'node:path'
import { hasCode } from '../../src/errors.js'
import { runFuzz, type FuzzOptions } from '../../src/check/fuzz.js'
import { chooseFuzzTargets } from '../../src/project/fuzz-targets.js'
import { loadConsumerModule } from '../../src/project/import.js'
import { loadProject } from '../../src/project/load.js'
import { junitXml, renderReport } from '../../src/check/report.js'
import { testRedisUrl } from '../support/namespace.js'

const seed = Number(process.env['FC_SEED'] ?? 7)

/** `pipeline fuzz` as the command runs it from `cwd`: the project there, then the --consumer arguments. */
async function fuzzIn(cwd: string, options: Omit<FuzzOptions, 'targets' | 'consumerArgs' | 'redisUrl'> & { consumers?: string[] }) {
  const project = await loadProject({ cwd })
  const { consumers, ...rest } = options
  return runFuzz({ redisUrl: testRedisUrl(), ...rest, ...(await chooseFuzzTargets(project, consumers, testRedisUrl())), configContracts: project.contractsDirs })
}

describe('pipeline fuzz on a user project', () => {
  it('loads pipeline.config.ts: its consumers and its contracts folder', async () => {
    const project = await loadProject({ cwd: 'test/check/project' })
    expect(await project.fuzzTargets()).toHaveLength(2)
    expect(project.names).toEqual(['ledger', 'last-credited'])
    expect(project.contractsDirs).toHaveLength(1)
    expect(project.contractsDirs[0]).toMatch(/test[/\\]check[/\\]contracts$/)
  })

  it('loads consumers from a module path', async () => {
    const targets = await loadConsumerModule('test/check/broken/wall-clock.ts')
    expect(targets.map((t) => (t.consumer as { name: string }).name)).toEqual(['stamped-balances'])
  })

  it('checks the config consumers, reports failures with a reproduce command, JSON-ready results and JUnit', async () => {
    const report = await fuzzIn('test/check/project', { runs: 100, seed, properties: ['ordering', 'idempotency'] })
    expect(report.passed).toBe(false)
    const failing = report.results.filter((r) => !r.passed)
    expect(failing.map((r) => `${r.consumer}/${r.property}`)).toEqual(['last-credited/ordering'])
    const text = renderReport(report, { consumerArg: (c) => report.consumerArgs[c] ?? c, runs: 100, durationMs: report.durationMs })
    expect(text).toContain(`reproduce: pipeline fuzz --consumer last-credited --property ordering --seed ${seed} --runs 100 --path `)
    expect(text).toContain('what happened:')
    const xml = junitXml(report)
    expect(xml).toContain('<testsuite name="fuzz ledger" tests="2" failures="0"')
    expect(xml).toContain('<failure message="seed')
    for (const r of report.results) expect(Object.keys(r)).toEqual(expect.arrayContaining(['consumer', 'property', 'passed', 'runs', 'seed', 'counterexample']))
    // The reproduce command travels with the result (for --json) and into the JUnit report.
    const reproduce = failing[0]?.reproduce ?? ''
    expect(reproduce).toMatch(new RegExp(`^pipeline fuzz --consumer last-credited --property ordering --seed ${seed} --runs 100 --path '[^']+'$`))
    expect(text).toContain(`reproduce: ${reproduce}`)
    expect(xml).toContain(`<system-out>reproduce: ${reproduce.replace(/'/g, '&apos;')}</system-out>`)
    expect(report.results.filter((r) => r.passed).every((r) => r.reproduce === undefined)).toBe(true)
  })

  it('a consumer subscribing to a type with no contract is a setup error, before any property runs', async () => {
    const ran: string[] = []
    const error = await fuzzIn('test/check', { consumers: ['test/check/good-ledger.ts'], runs: 100, seed, onResult: (r) => void ran.push(r.property) }).catch((e: unknown) => e)
    expect(hasCode(error, 'E_CHECK_NO_CONTRACT')).toBe(true)
    expect((error as Error).message).toBe('consumer ledger subscribes to account.credited, which has no contract')
    expect((error as { hint?: string }).hint).toContain('--contracts DIR')
    expect(ran).toEqual([])
  })

  it('--contracts supplies them, and the reproduce command carries it', async () => {
    const report = await fuzzIn('test/check', { consumers: ['test/check/broken/cross-key-order.ts'], contracts: ['test/check/contracts'], runs: 100, seed, properties: ['ordering'] })
    expect(report.results[0]?.passed).toBe(false)
    expect(report.results[0]?.reproduce).toMatch(/^pipeline fuzz --consumer test\/check\/broken\/cross-key-order\.ts --property ordering --seed \d+ --runs 100 --contracts test\/check\/contracts --path /)
  })

  it('a config that only names contracts, with the consumers from --consumer', async () => {
    const report = await fuzzIn('test/check/project-contracts-only', { consumers: [resolve('test/check/good/undeclared-emits.ts')], runs: 10, seed })
    expect(report.passed).toBe(true)
    expect(report.results.every((r) => r.warnings?.some((w) => w.includes('account.receipt')))).toBe(true)
    await expect(fuzzIn('test/check/project-contracts-only', { runs: 1, seed })).rejects.toThrow(/lists no consumers/)
  })

  it('re-runs just the counterexample from its seed and path', async () => {
    const first = await fuzzIn('test/check/project', { consumers: ['last-credited'], runs: 100, seed, properties: ['ordering'] })
    const path = first.results[0]?.counterexample?.path as string
    const again = await fuzzIn('test/check/project', { consumers: ['last-credited'], runs: 100, seed, path, properties: ['ordering'] })
    expect(again.results[0]?.passed).toBe(false)
    expect(again.results[0]?.counterexample?.events).toEqual(first.results[0]?.counterexample?.events)
  })
})
