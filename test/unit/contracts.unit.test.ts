import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { defaultContractsDir, loadContracts, type ContractRegistry, type EventEnvelope } from '../../src/events/index.js'
import type { CorrelationId, EventId } from '../../src/events/ids.js'
import { thrown } from '../support/errors.js'

const fixtures = (name: string): string => fileURLToPath(new URL(`../fixtures-contracts/${name}`, import.meta.url))
const CHAIN = fixtures('chain')
const PRICED = 'test.holding.priced'

function envelope(type: string, version: number, payload: unknown): EventEnvelope {
  return {
    id: '0190f5a0-0000-7000-8000-000000000001' as EventId,
    type,
    version,
    source: 'test',
    occurredAt: '2026-11-25T12:00:00.000Z',
    correlationId: '0190f5a0-0000-7000-8000-0000000000c0' as CorrelationId,
    causationId: '',
    key: 'LU0000000001',
    payload,
  }
}

// The production chain of lifts used in these tests: v1 has no currency, v3 nests the money.
function withChain(registry: ContractRegistry): ContractRegistry {
  registry.registerUpcaster(PRICED, 1, (p: { isin: string; price: number }) => ({ ...p, currency: 'EUR' }))
  registry.registerUpcaster(PRICED, 2, (p: { isin: string; price: number; currency: string }) => ({
    isin: p.isin,
    price: { amount: p.price, currency: p.currency },
    asOf: '1970-01-01',
  }))
  return registry
}

describe('loading contracts', () => {
  it('reads every type and version with its meaning, producers and consumers', () => {
    const registry = loadContracts(CHAIN)
    expect(registry.types()).toEqual(['test.holding.priced', 'test.nav.published'])
    expect(registry.versions(PRICED)).toEqual([1, 2, 3])
    expect(registry.latestVersion(PRICED)).toBe(3)
    expect(registry.latestVersion('nope')).toBeUndefined()
    expect(registry.has('test.nav.published')).toBe(true)
    expect(registry.has('nope')).toBe(false)
    const v3 = registry.get(PRICED, 3)
    expect(v3?.description).toMatch(/was priced/)
    expect(v3?.producers).toEqual(['pricer'])
    expect(v3?.consumers).toEqual(['valuer', 'reporter'])
    expect(v3?.file).toBe(join(CHAIN, PRICED, 'v3.schema.json'))
    expect(registry.get(PRICED, 2)?.producers).toEqual([])
    expect(registry.get(PRICED, 4)).toBeUndefined()
  })

  it('names the file of a schema that is not JSON', () => {
    const error = thrown(() => loadContracts(fixtures('bad-json')))
    expect(error.code).toBe('E_CONTRACT_FILE')
    expect(error.message).toContain(join('bad-json', 'test.broken', 'v1.schema.json'))
    expect(error.message).toMatch(/not valid JSON/)
    expect(error.details?.file).toBe(join(fixtures('bad-json'), 'test.broken', 'v1.schema.json'))
  })

  it('refuses a schema without a sentence of meaning, and a misspelt keyword', () => {
    expect(thrown(() => loadContracts(fixtures('no-description'))).message).toMatch(/test\.vague.v1\.schema\.json has no description/)
    const typo = thrown(() => loadContracts(fixtures('bad-keyword')))
    expect(typo.message).toContain(join('test.typo', 'v1.schema.json'))
    expect(typo.message).toMatch(/requried/)
  })

  describe('layout', () => {
    let dir = ''
    afterEach(() => rmSync(dir, { recursive: true, force: true }))
    const write = (path: string, schema: object): void => {
      mkdirSync(join(dir, path, '..'), { recursive: true })
      writeFileSync(join(dir, path), JSON.stringify(schema))
    }

    it('refuses a misnamed file, a wrong title and an unsupported draft, naming the file', () => {
      dir = mkdtempSync(join(tmpdir(), 'contracts-'))
      write('a.b/v1.json', { title: 'a.b', description: 'x' })
      expect(thrown(() => loadContracts(dir)).message).toMatch(/a\.b.v1\.json is not named v<N>\.schema\.json/)
      rmSync(join(dir, 'a.b'), { recursive: true })
      write('a.b/v1.schema.json', { title: 'a.c', description: 'x' })
      expect(thrown(() => loadContracts(dir)).message).toMatch(/has title "a.c"; it must be the event type "a.b"/)
      write('a.b/v1.schema.json', { $schema: 'http://json-schema.org/draft-04/schema#', title: 'a.b', description: 'x' })
      expect(thrown(() => loadContracts(dir)).message).toMatch(/draft-04.*not supported/)
    })

    it('accepts either spelling of a supported draft, and ignores non-JSON files', () => {
      dir = mkdtempSync(join(tmpdir(), 'contracts-'))
      write('README.md', {})
      write('catalog.asyncapi.json', {})
      write('a.b/notes.txt', {})
      write('a.b/examples.json', {})
      write('a.b/v1.schema.json', { $schema: 'http://json-schema.org/draft/2020-12/schema', title: 'a.b', description: 'x', 'x-owner': { team: 'data' } })
      write('a.b/v2.schema.json', { $schema: 'https://json-schema.org/draft-07/schema', title: 'a.b', description: 'y', type: 'string' })
      const registry = loadContracts(dir)
      expect(registry.versions('a.b')).toEqual([1, 2])
      expect(thrown(() => registry.validate('a.b', 2, 1)).details?.errors).toEqual([{ path: '', reason: 'must be string' }])
    })

    it('merges extra folders, and refuses a type@version defined twice', () => {
      dir = mkdtempSync(join(tmpdir(), 'contracts-'))
      const merged = loadContracts(CHAIN).withFolders(fixtures('extra'))
      expect(merged.types()).toEqual(['test.extra.noted', 'test.holding.priced', 'test.nav.published'])
      write(`${PRICED}/v2.schema.json`, { title: PRICED, description: 'A clash.' })
      const error = thrown(() => loadContracts([CHAIN, dir]))
      expect(error.code).toBe('E_CONTRACT_FILE')
      expect(error.message).toContain(`${PRICED}@2 is defined twice`)
    })

    it('fails clearly on a folder that does not exist', () => {
      dir = join(tmpdir(), 'no-such-contracts-folder')
      expect(thrown(() => loadContracts(dir)).message).toContain(`cannot read the contracts folder ${dir}`)
    })
  })

  it('finds the package contracts folder from the module location', () => {
    expect(defaultContractsDir()).toBe(fileURLToPath(new URL('../../contracts', import.meta.url)))
  })
})

describe('validation', () => {
  const registry = loadContracts(CHAIN)
  const good = { fileId: 'f1', records: [{ isin: 'LU0000000001', nav: 101.5, navDate: '2026-11-24' }] }

  it('accepts a payload that keeps the contract', () => {
    expect(() => registry.validate('test.nav.published', 1, good)).not.toThrow()
  })

  it('reports every failing field with its path and reason', () => {
    const bad = {
      fileId: 'f1',
      records: [good.records[0], good.records[0], good.records[0], { isin: 'nope', nav: 1, navDate: '2026-13-45', status: 'draft' }],
    }
    const error = thrown(() => registry.validate('test.nav.published', 1, bad, 'publish'))
    expect(error.code).toBe('E_CONTRACT')
    expect(error.message).toMatch(/^publish: test\.nav\.published@1 payload breaks its contract: /)
    expect(error.details?.errors).toEqual([
      { path: '/records/3/isin', reason: 'must match pattern "^[A-Z]{2}[A-Z0-9]{9}[0-9]$"' },
      { path: '/records/3/navDate', reason: 'must match format "date"' },
      { path: '/records/3/status', reason: 'must be one of "final", "estimate"' },
    ])
    expect(error.message).toContain('/records/3/isin must match pattern')
    expect(error.message).toContain('/records/3/navDate must match format "date"')
  })

  it('points at a missing or extra property itself, not its parent', () => {
    const error = thrown(() => registry.validate(PRICED, 1, { price: 'ten', extra: true }))
    expect(error.details?.errors).toEqual([
      { path: '/isin', reason: 'is required' },
      { path: '/extra', reason: 'is not allowed by the contract' },
      { path: '/price', reason: 'must be number' },
    ])
    expect(thrown(() => registry.validate(PRICED, 1, 'text')).message).toContain('(payload) must be object')
  })

  it('refuses an unknown type and an unknown version, listing what is known', () => {
    const type = thrown(() => registry.validate('test.nope', 1, {}, 'read from stream s'))
    expect(type.code).toBe('E_CONTRACT_UNKNOWN')
    expect(type.message).toBe('read from stream s: no contract for event type "test.nope"')
    expect(type.hint).toContain('test.holding.priced, test.nav.published')
    const version = thrown(() => registry.validate(PRICED, 7, {}))
    expect(version.code).toBe('E_CONTRACT_UNKNOWN')
    expect(version.message).toBe('no contract for test.holding.priced@7 (known versions: 1, 2, 3)')
    expect(thrown(() => registry.validate(PRICED, 1.5, {})).code).toBe('E_CONTRACT_UNKNOWN')
  })
})

describe('upcasting', () => {
  const v1 = envelope(PRICED, 1, { isin: 'LU0000000001', price: 12.5 })

  it('reads an event stored as v1 as v3, and the lifted payload keeps the v3 contract', () => {
    const registry = withChain(loadContracts(CHAIN))
    registry.validate(PRICED, 1, v1.payload)
    const read = registry.upcast(v1)
    expect(read).toEqual({
      ...v1,
      version: 3,
      payload: { isin: 'LU0000000001', price: { amount: 12.5, currency: 'EUR' }, asOf: '1970-01-01' },
    })
    expect(() => registry.validate(read.type, read.version, read.payload)).not.toThrow()
    expect(v1.payload).toEqual({ isin: 'LU0000000001', price: 12.5 })
  })

  it('returns the same object when there is nothing to lift', () => {
    const registry = withChain(loadContracts(CHAIN))
    const v3 = envelope(PRICED, 3, {})
    expect(registry.upcast(v3)).toBe(v3)
    const unknown = envelope('test.nope', 1, {})
    expect(registry.upcast(unknown)).toBe(unknown)
  })

  it('fails clearly on a missing link in the chain', () => {
    const registry = loadContracts(CHAIN)
    registry.registerUpcaster(PRICED, 1, (p: object) => ({ ...p, currency: 'EUR' }))
    const error = thrown(() => registry.upcast(v1))
    expect(error.code).toBe('E_CONTRACT_UPCAST')
    expect(error.message).toContain(`no upcaster for ${PRICED} v2 -> v3`)
    expect(error.hint).toContain(`registerUpcaster('${PRICED}', 2,`)
  })

  it('names the step whose upcaster throws', () => {
    const registry = loadContracts(CHAIN)
    registry.registerUpcaster(PRICED, 1, () => {
      throw new Error('boom')
    })
    const error = thrown(() => registry.upcast(v1))
    expect(error.code).toBe('E_CONTRACT_UPCAST')
    expect(error.message).toContain(`${PRICED} v1 -> v2 failed on event ${v1.id}: boom`)
  })

  it('refuses upcasters for unknown steps and the same step twice', () => {
    const registry = withChain(loadContracts(CHAIN))
    expect(thrown(() => registry.registerUpcaster(PRICED, 3, (p) => p)).code).toBe('E_CONTRACT_UNKNOWN')
    expect(thrown(() => registry.registerUpcaster('test.nope', 1, (p) => p)).code).toBe('E_CONTRACT_UNKNOWN')
    expect(thrown(() => registry.registerUpcaster(PRICED, 1, (p) => p)).code).toBe('E_CONTRACT_UPCAST')
  })

  it('keeps upcasters when merging folders, without sharing later registrations', () => {
    const base = loadContracts(CHAIN)
    base.registerUpcaster(PRICED, 1, (p: object) => ({ ...p, currency: 'EUR' }))
    const merged = base.withFolders(fixtures('extra'))
    merged.registerUpcaster(PRICED, 2, (p: { isin: string; price: number; currency: string }) => ({
      isin: p.isin,
      price: { amount: p.price, currency: p.currency },
      asOf: '1970-01-01',
    }))
    expect(merged.upcast(v1).version).toBe(3)
    expect(thrown(() => base.upcast(v1)).code).toBe('E_CONTRACT_UPCAST')
  })
})
