import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { keysFor } from '../../src/bus/keys.js'
import { STAGE } from '../../src/pipeline/index.js'
import { testBus } from '../support/bus.js'
import { testNamespace, testRedisUrl } from '../support/namespace.js'
import { bareEnv, runCli } from '../support/cli.js'

// A mistyped consumer name is a usage error (exit 2) with the closest name and the list; a
// replay that re-delivered nothing is not a success.
let project: string

function pipeline(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCli(args, { cwd: project, env: bareEnv(project) })
}

beforeAll(() => {
  if (!existsSync(resolve('dist/commands/dlq/replay.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does).')
  project = mkdtempSync(join(tmpdir(), 'eventspine-names-'))
})
afterAll(() => rmSync(project, { recursive: true, force: true }))

// Each CLI start costs seconds on a loaded machine; the typo story runs five of them.
describe('consumer names from the terminal', { timeout: 300_000 }, () => {
  it('dlq replay, replay, dlq list and dlq purge refuse a typo with "did you mean" and exit 2', async () => {
    const common = ['--redis-url', testRedisUrl(), '--namespace', testNamespace('names')]
    for (const args of [
      ['dlq', 'replay', '--all', '--consumer', 'delivr'],
      ['replay', '--consumer', 'delivr', '--since', '1h'],
      ['dlq', 'list', '--consumer', 'delivr'],
      ['dlq', 'purge', '--consumer', 'delivr', '--yes'],
      ['pause', '--consumer', 'delivr'],
      ['resume', '--consumer', 'delivr'],
    ]) {
      const run = await pipeline([...args, ...common])
      expect(run.code, args.join(' ')).toBe(2)
      expect(run.stderr).toContain('unknown consumer "delivr": did you mean deliver?')
      expect(run.stderr).toContain(`Known consumers: ${Object.values(STAGE).join(', ')}`)
    }
    const json = await pipeline(['dlq', 'replay', '--all', '--consumer', 'delivr', '--json', ...common])
    expect(json.code).toBe(2)
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: 'E_UNKNOWN_CONSUMER' } })
  })

  it('dlq replay of dead letters no handler here can take: skipped, and exit 1', async () => {
    const bus = await testBus()
    const common = ['--redis-url', testRedisUrl(), '--namespace', bus.namespace]
    // A consumer of the user's own dead-lettered one event; this CLI has no handler for it.
    const keys = keysFor(bus.namespace)
    await bus.redis.xadd(keys.deadLetters('ledger'), '*', 'attempts', '3', 'error', 'boom', 'stream', keys.stream('x'), 'entryId', '1-0', 'consumer', 'ledger', 'failedAt', new Date().toISOString())
    const list = await pipeline(['dlq', 'list', '--consumer', 'ledger', ...common])
    expect(list.code).toBe(0)
    expect(list.stdout).toContain('ledger: 1 dead letter')
    const all = await pipeline(['dlq', 'replay', '--all', ...common])
    expect(all.code).toBe(1)
    expect(all.stdout).toContain('0 delivered, 0 already committed, 0 failed again, 1 skipped.')
    expect(all.stderr).toContain('Nothing was re-delivered: all 1 chosen dead letter was skipped')
    expect(await bus.redis.xlen(keys.deadLetters('ledger'))).toBe(1)
    const none = await pipeline(['dlq', 'replay', '--all', '--consumer', 'deliver', ...common])
    expect(none.code).toBe(0)
    expect(none.stdout).toContain('No dead letters to replay.')
  })

  it('fuzz --consumer with a typo lists the built-in names and suggests the closest (exit 2)', async () => {
    const run = await pipeline(['fuzz', '--consumer', 'delivr', '--runs', '1', '--redis-url', testRedisUrl()])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('unknown consumer "delivr": did you mean deliver?')
    expect(run.stderr).toContain(`Known consumers: ${Object.values(STAGE).join(', ')}`)
    expect(run.stderr).toContain('Or pass the path of a JS module')
  })

  it('pause and resume a consumer by hand, each saying what changed', async () => {
    const namespace = testNamespace('pause')
    const common = ['--redis-url', testRedisUrl(), '--namespace', namespace]
    const paused = await pipeline(['pause', '--consumer', 'deliver', ...common])
    expect(paused.stderr).toBe('')
    expect(paused.code).toBe(0)
    expect(paused.stdout).toContain('deliver paused: its instances take no new event until `pipeline resume --consumer deliver`')
    const again = await pipeline(['pause', '--consumer', 'deliver', '--json', ...common])
    expect(JSON.parse(again.stdout)).toMatchObject({ consumer: 'deliver', action: 'pause', changed: false, breaker: { open: true, reason: 'manual' } })
    const resumed = await pipeline(['resume', '--consumer', 'deliver', ...common])
    expect(resumed.code).toBe(0)
    expect(resumed.stdout).toContain('deliver resumed: its breaker is closed')
    const bus = await testBus({ namespace })
    expect(await bus.redis.exists(keysFor(namespace).breaker('deliver'))).toBe(0)
  })
})
