import { describe, expect, it } from 'vitest'
import { defineConsumer, permissiveContracts, type ConsumerDefinition } from '../../src/bus/index.js'
import { hasCode } from '../../src/errors.js'
import { defaultContractsDir, deriveEventId, loadContracts } from '../../src/events/index.js'
import { runGolden, type InputEvent } from '../../src/check/golden/run.js'
import { given } from '../../src/testing.js'

const credit = (key: string, amount = 1, extra: Partial<InputEvent> = {}): InputEvent => ({ type: 'test.credit', key, payload: { amount }, ...extra })

/** Reads a value, writes it back incremented, and says what it read: shows what a read sees. */
const counter = defineConsumer({
  name: 'counter',
  subscribes: ['test.credit'],
  async handle(event, ctx) {
    const before = Number((await ctx.state.get('n')) ?? '0')
    ctx.state.set('n', String(before + 1))
    // The event's own write is buffered: this read still sees the committed value.
    const again = await ctx.state.get('n')
    ctx.emit({ type: 'test.seen', payload: { before, again } })
  },
})

const run = (consumer: ConsumerDefinition, when: InputEvent[], extra: Parameters<typeof runGolden>[1] extends infer O ? Partial<O> : never = {}) =>
  runGolden(consumer, { contracts: permissiveContracts, when, ...extra })

describe('the golden runner: the runtime context over an in-memory state', () => {
  it('a read sees committed state, never the same event\'s buffered writes; the next event sees them committed', async () => {
    const result = await run(counter, [credit('a'), credit('b')])
    expect(result.inputs.map((i) => i.emitted.map((e) => e.payload))).toEqual([[{ before: 0, again: null }], [{ before: 1, again: '1' }]])
    expect(result.state.get('n')).toEqual({ kind: 'string', value: '2' })
  })

  it('derives ids, correlation and causation as the runtime does, and fills inputs deterministically', async () => {
    const first = await run(counter, [credit('a', 1, { correlationId: 'file-1' })])
    const second = await run(counter, [credit('a', 1, { correlationId: 'file-1' })])
    const input = first.inputs[0]
    const emitted = input?.emitted[0]
    expect(input?.event.id).toBe(deriveEventId('019ab000-0000-7000-8000-000000000000', 'when#0'))
    expect(emitted?.id).toBe(deriveEventId(input?.event.id as string, 'counter#0'))
    expect(emitted?.causationId).toBe(input?.event.id)
    expect(emitted?.correlationId).toBe('file-1')
    expect(emitted?.key).toBe('a')
    expect(emitted?.source).toBe('counter')
    expect({ ...second.inputs[0]?.event }).toEqual({ ...input?.event })
    expect(second.inputs[0]?.emitted[0]?.id).toBe(emitted?.id)
  })

  it('an id handled before is a redelivery: handled again, nothing applied (the inbox)', async () => {
    const id = '019ab000-0000-7000-8000-0000000000aa'
    const result = await run(counter, [credit('a', 1, { id }), credit('a', 1, { id })])
    expect(result.inputs.map((i) => [i.outcome, i.emitted.length])).toEqual([['committed', 1], ['duplicate', 0]])
    expect(result.state.get('n')).toEqual({ kind: 'string', value: '1' })
  })

  it('a throw is a failed attempt: retried with ctx.attempt counting up, its writes never applied; the last one dead-letters', async () => {
    const attempts: number[] = []
    const flaky = defineConsumer({
      name: 'flaky',
      subscribes: ['test.credit'],
      handle(event, ctx) {
        attempts.push(ctx.attempt)
        ctx.state.hincrby('tries', event.key, 1)
        if (event.key === 'always' || ctx.attempt === 1) throw new Error(`attempt ${ctx.attempt} of ${event.key} failed`)
      },
    })
    const result = await run(flaky, [credit('once'), credit('always')])
    expect(attempts).toEqual([1, 2, 1, 2, 3])
    expect(result.inputs.map((i) => [i.outcome, i.attempts, i.errors.at(-1)])).toEqual([
      ['committed', 2, 'attempt 1 of once failed'],
      ['dead-lettered', 3, 'attempt 3 of always failed'],
    ])
    expect(result.state.get('tries')).toEqual({ kind: 'hash', fields: new Map([['once', '1']]) })
  })

  it('emits are checked against the contracts (a bad payload fails the event) with the latest version by default', async () => {
    const contracts = loadContracts(defaultContractsDir())
    const emitter = (payload: unknown) => defineConsumer({ name: 'emitter', subscribes: ['pipeline.file.scored'], handle: (_e, ctx) => void ctx.emit({ type: 'pipeline.file.delivered', payload }) })
    const input: InputEvent = { type: 'pipeline.file.scored', key: 'f1', payload: { fileName: 'a.csv', contentHash: 'a'.repeat(64), kind: 'nav', provider: 'atlas', receivedAt: '2026-11-25T08:00:00.000Z', score: 100, components: { completeness: 100, validity: 100, timeliness: 100, consistency: 100 }, flags: [] } }
    const bad = await runGolden(emitter({ nope: true }), { contracts, when: [input] })
    expect(bad.inputs[0]?.outcome).toBe('dead-lettered')
    expect(bad.inputs[0]?.errors[0]).toContain('emitter emitting')
    const good = await runGolden(emitter({ fileName: 'a.csv', kind: 'nav', outputPath: '2026-11-25/nav/f1.json', recordCount: 1, score: 100 }), { contracts, when: [input] })
    expect(good.inputs[0]?.errors).toEqual([])
    expect(good.inputs[0]?.emitted[0]?.version).toBe(contracts.latestVersion('pipeline.file.delivered'))
  })

  it('an input that breaks its contract stops the run, naming the input', async () => {
    const contracts = loadContracts(defaultContractsDir())
    const error = await runGolden(counter, { contracts, when: [{ type: 'pipeline.file.scored', key: 'f', payload: {} }] }).catch((e: unknown) => e)
    expect(hasCode(error, 'E_CONTRACT')).toBe(true)
    expect((error as Error).message).toContain('when event #0')
  })

  it('state keys keep Redis\'s types: a write of the other type is refused as commit.lua refuses it, a read answers WRONGTYPE', async () => {
    const mixed = defineConsumer({
      name: 'mixed',
      subscribes: ['test.credit'],
      async handle(event, ctx) {
        if (event.key === 'read') await ctx.state.hget('s', 'f')
        else ctx.state.hset('s', 'f', '1')
      },
    })
    const prior = new Map([['s', { kind: 'string' as const, value: 'text' }]])
    const result = await run(mixed, [credit('write'), credit('read')], { state: prior })
    expect(result.inputs.map((i) => i.outcome)).toEqual(['dead-lettered', 'dead-lettered'])
    expect(result.inputs[0]?.errors[0]).toContain('which holds another Redis type')
    expect(result.inputs[1]?.errors[0]).toContain('WRONGTYPE')
    expect(result.state.get('s')).toEqual({ kind: 'string', value: 'text' })
  })

  it('hash writes apply as Redis applies them: hincrby from 0, hdel of the last field deletes the key', async () => {
    const hashes = defineConsumer({
      name: 'hashes',
      subscribes: ['test.credit'],
      handle(event, ctx) {
        ctx.state.hincrby('h', 'n', 5)
        ctx.state.hset('g', 'only', 'x')
        if (event.key === 'drop') ctx.state.hdel('g', 'only')
      },
    })
    const result = await run(hashes, [credit('keep'), credit('drop')])
    expect(result.state.get('h')).toEqual({ kind: 'hash', fields: new Map([['n', '10']]) })
    expect(result.state.has('g')).toBe(false)
    // Redis refuses HINCRBY of a field that is no integer: the event fails, nothing of it applied.
    const refused = await run(hashes, [credit('keep')], { state: new Map([['h', { kind: 'hash' as const, fields: new Map([['n', 'x']]) }]]) })
    expect(refused.inputs[0]?.errors[0]).toContain('hash value is not an integer')
    expect([...refused.state.keys()]).toEqual(['h'])
  })
})

describe('given/when/then', () => {
  it('passes when the emits and the state are as expected; given events run first and their emits are not compared', async () => {
    await given(counter, { state: { n: '4' }, events: [credit('a')] }, { contracts: permissiveContracts })
      .when(credit('b'))
      .then({ emits: [{ type: 'test.seen', key: 'b', payload: { before: 5, again: '5' } }], state: { n: '6', other: null } })
  })

  it('a mismatch throws an Error whose message is a readable diff, expected (-) against actual (+)', async () => {
    const error = await given(counter, {}, { contracts: permissiveContracts })
      .when(credit('a'))
      .then({ emits: [{ type: 'test.seen', payloadIncludes: { before: 7 } }], state: { n: '1' } })
      .catch((e: unknown) => e)
    expect(hasCode(error, 'E_GOLDEN_MISMATCH')).toBe(true)
    const message = (error as Error).message
    expect(message).toContain('golden case of counter failed:')
    expect(message).toMatch(/^- {9}"before": 7$/m)
    expect(message).toMatch(/^\+ {9}"before": 0$/m)
    // payloadIncludes: only the fields named are compared and shown.
    expect(message).not.toContain('"again"')
  })

  it('a dead letter nobody expected fails the case with its error; an expected one passes', async () => {
    const broken = defineConsumer({ name: 'broken', subscribes: ['test.credit'], handle: () => { throw new Error('no such account') } })
    const error = await given(broken, {}, { contracts: permissiveContracts }).when(credit('a')).then({ emits: [] }).catch((e: unknown) => e)
    expect((error as Error).message).toMatch(/^\+ .*"error": "no such account"/m)
    await given(broken, {}, { contracts: permissiveContracts }).when(credit('a')).then({ emits: [], deadLettered: [{ event: 0, error: 'no such account' }] })
  })

  it('hash fields given as JSON are stored as JSON text and compared as values', async () => {
    const copier = defineConsumer({
      name: 'copier',
      subscribes: ['test.credit'],
      async handle(_event, ctx) {
        const raw = await ctx.state.hget('h', 'doc')
        ctx.state.hset('h', 'copy', raw ?? '')
        ctx.state.setJson('j', { seen: raw })
      },
    })
    await given(copier, { state: { h: { doc: { b: 1, a: [2] } } } }, { contracts: permissiveContracts })
      .when(credit('a'))
      .then({ state: { h: { doc: { a: [2], b: 1 }, copy: '{"b":1,"a":[2]}' }, j: { $json: { seen: '{"b":1,"a":[2]}' } } } })
  })

  it('awaiting .when(...) by mistake says what to do instead of hanging', async () => {
    const error = await (async () => {
      await (given(counter).when(credit('a')) as unknown as Promise<void>)
    })().catch((e: unknown) => e)
    expect((error as Error).message).toContain('call .then({ emits, state })')
  })
})
