import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { checkContracts, formatCompatibilityReport, loadRegistry, readBaseline, schemasOf, type Baseline } from '../../src/events/compat/index.js'
import { defaultContractsDir, loadContracts } from '../../src/events/index.js'

const fixtures = (name: string): string => fileURLToPath(new URL(`../fixtures-schema/${name}`, import.meta.url))
const ORDERS = fixtures('orders')
const PLACED = 'test.order.placed'

const temps: string[] = []
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** A copy of a fixture folder of contracts, to edit. */
function copyOf(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'eventspine-schema-'))
  temps.push(dir)
  cpSync(fixtures(name), dir, { recursive: true })
  return dir
}

function edit(dir: string, type: string, version: number, change: (schema: any) => void): void {
  const file = join(dir, type, `v${version}.schema.json`)
  const schema = JSON.parse(readFileSync(file, 'utf8'))
  change(schema)
  writeFileSync(file, JSON.stringify(schema, null, 2))
}

const baselineOf = (dir: string): Baseline => readBaseline({ against: dir, dirs: [] })

describe('schema check', () => {
  it("passes on this project's own contracts against HEAD (read with git)", () => {
    const dirs = [defaultContractsDir()]
    const report = checkContracts({ registry: loadContracts(dirs), baseline: readBaseline({ against: 'HEAD', dirs }) })
    expect(report.problems).toEqual([])
    expect(report.baseline).toBe('git HEAD')
    expect(report.versions.length).toBeGreaterThanOrEqual(10)
  })

  it('passes when nothing changed', () => {
    const report = checkContracts({ registry: loadContracts(ORDERS), baseline: baselineOf(ORDERS) })
    expect(report.ok).toBe(true)
    expect(report.problems).toEqual([])
    expect(report.versions.map((v) => `${v.type}@${v.version}:${v.status}`)).toEqual([`${PLACED}@1:unchanged`, 'test.order.shipped@1:unchanged'])
  })

  it('fails on a renamed field in an existing version, naming type, version, path and reason', () => {
    const dir = copyOf('orders')
    edit(dir, PLACED, 1, (s) => {
      s.properties.clientId = s.properties.customerId
      delete s.properties.customerId
      s.required = s.required.map((name: string) => (name === 'customerId' ? 'clientId' : name))
    })
    const report = checkContracts({ registry: loadContracts(dir), baseline: baselineOf(ORDERS) })
    expect(report.ok).toBe(false)
    const placed = report.versions.find((v) => v.type === PLACED)
    expect(placed).toMatchObject({ status: 'changed', compatibility: 'breaking' })
    const paths = report.problems.map((p) => `${p.type} v${p.version} ${p.path}`)
    expect(paths).toEqual(expect.arrayContaining([`${PLACED} v1 /customerId`, `${PLACED} v1 /clientId`]))
    const removed = report.problems.find((p) => p.path === '/customerId')
    expect(removed?.reason).toContain('required property removed')
    expect(removed?.reason).toContain('renamed to "clientId"?')
    expect(removed?.reason).toContain('publish the change as v2 with an upcaster from v1')
    expect(report.problems.find((p) => p.path === '/clientId')?.reason).toContain('events already written lack it')
    const text = formatCompatibilityReport(report)
    expect(text).toContain(`${PLACED} v1 /customerId: required property removed`)
  })

  it('lets an optional field be added in place to a tolerant reader (full), but not a required one', () => {
    const optional = copyOf('orders')
    edit(optional, PLACED, 1, (s) => void (s.properties.channel = { type: 'string' }))
    expect(checkContracts({ registry: loadContracts(optional), baseline: baselineOf(ORDERS) }).ok).toBe(true)

    const required = copyOf('orders')
    edit(required, PLACED, 1, (s) => {
      s.properties.channel = { type: 'string' }
      s.required.push('channel')
    })
    const report = checkContracts({ registry: loadContracts(required), baseline: baselineOf(ORDERS) })
    expect(report.ok).toBe(false)
    expect(report.problems).toEqual([expect.objectContaining({ type: PLACED, version: 1, path: '/channel' })])
    // A forward-only edit passes where only forward compatibility is asked for.
    expect(checkContracts({ registry: loadContracts(required), baseline: baselineOf(ORDERS), level: 'forward' }).ok).toBe(true)
  })

  it('finds changes deep in arrays of objects', () => {
    const dir = copyOf('orders')
    edit(dir, PLACED, 1, (s) => void (s.properties.lines.items.properties.units = { type: 'string' }))
    const report = checkContracts({ registry: loadContracts(dir), baseline: baselineOf(ORDERS) })
    expect(report.problems.map((p) => p.path)).toEqual(['/lines/[]/units'])
    expect(report.problems[0]?.reason).toContain('type changed from number to string')
  })

  it('accepts a breaking change made as a new version with its upcaster, and classifies it against the previous one', () => {
    const dir = copyOf('orders')
    const v2 = JSON.parse(readFileSync(join(dir, PLACED, 'v1.schema.json'), 'utf8'))
    v2.properties.clientId = v2.properties.customerId
    delete v2.properties.customerId
    v2.required = ['orderId', 'clientId', 'amount', 'side']
    writeFileSync(join(dir, PLACED, 'v2.schema.json'), JSON.stringify(v2))

    const without = checkContracts({ registry: loadContracts(dir), baseline: baselineOf(ORDERS) })
    expect(without.ok).toBe(false)
    expect(without.problems).toEqual([expect.objectContaining({ type: PLACED, version: 2, path: '/', reason: expect.stringContaining('no upcaster from v1 to v2') })])

    const registry = loadContracts(dir)
    registry.registerUpcaster(PLACED, 1, ({ customerId, ...rest }: { customerId: string }) => ({ ...rest, clientId: customerId }))
    const report = checkContracts({ registry, baseline: baselineOf(ORDERS) })
    expect(report.ok).toBe(true)
    expect(report.versions.find((v) => v.type === PLACED && v.version === 2)).toMatchObject({ status: 'new', compatibility: 'breaking', comparedWith: 'v1' })
  })

  it('fails when a version or a type is gone, and takes a new type as it is', () => {
    const dir = copyOf('orders')
    rmSync(join(dir, 'test.order.shipped'), { recursive: true })
    cpSync(fixtures('upcast-v1'), dir, { recursive: true })
    const report = checkContracts({ registry: loadContracts(dir), baseline: baselineOf(ORDERS) })
    expect(report.problems).toEqual([expect.objectContaining({ type: 'test.order.shipped', version: 1, reason: expect.stringContaining('the type was removed') })])
    expect(report.versions.find((v) => v.type === 'test.price.set')).toMatchObject({ status: 'new', version: 1 })
  })

  it('flags a chain with a missing upcaster even when nothing changed', () => {
    const chain = fixtures('upcast')
    const registry = loadContracts(chain)
    registry.registerUpcaster('test.price.set', 1, (p: object) => ({ ...p, currency: 'EUR' }))
    const report = checkContracts({ registry, baseline: { label: 'itself', schemas: schemasOf(registry) } })
    expect(report.problems).toHaveLength(1)
    expect(report.problems[0]).toMatchObject({ type: 'test.price.set', version: 3, path: '/' })
    expect(report.problems[0]?.reason).toContain('no upcaster from v2 to v3')
  })

  it('knows the upcasters a project registers in a module (--upcasters)', async () => {
    const dirs = [fixtures('upcast')]
    const registry = await loadRegistry({ dirs, upcastersModule: fixtures('upcasters.mjs') })
    expect([registry.hasUpcaster('test.price.set', 1), registry.hasUpcaster('test.price.set', 2)]).toEqual([true, true])
    expect(checkContracts({ registry, baseline: baselineOf(dirs[0] as string) }).ok).toBe(true)
    await expect(loadRegistry({ dirs, upcastersModule: fixtures('not-upcasters.mjs') })).rejects.toMatchObject({ code: 'E_SCHEMA_UPCASTERS' })
    await expect(loadRegistry({ dirs, upcastersModule: fixtures('missing.mjs') })).rejects.toMatchObject({ code: 'E_SCHEMA_UPCASTERS' })
  })
})
