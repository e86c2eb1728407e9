import { describe, expect, it } from 'vitest'
import { combine, diffSchemas, meets, type Compatibility } from '../../src/events/compat/index.js'

// An object schema: properties, which are required, and the content model.
function obj(properties: Record<string, object>, required: string[] = [], additionalProperties?: boolean | object): object {
  return { type: 'object', properties, required, ...(additionalProperties === undefined ? {} : { additionalProperties }) }
}
const str = { type: 'string' }
const num = { type: 'number' }
const int = { type: 'integer' }
const base = (extra: Record<string, object> = {}, required = ['id'], additional?: boolean) => obj({ id: str, ...extra }, required, additional)
const OPEN = undefined
const CLOSED = false

interface Row {
  change: string
  before: object
  after: object
  expected: Compatibility
  /** The path and kind of the (first) change reported. */
  path?: string
  kind?: string
}

// BACKWARD: new readers read old events. FORWARD: old readers read new events. FULL: both.
const table: Row[] = [
  { change: 'add optional property (open model)', before: base({}, ['id'], OPEN), after: base({ note: str }, ['id'], OPEN), expected: 'full', path: '/note', kind: 'property-added-optional' },
  { change: 'add optional property (closed model)', before: base({}, ['id'], CLOSED), after: base({ note: str }, ['id'], CLOSED), expected: 'backward', path: '/note' },
  { change: 'add required property (open model)', before: base({}, ['id'], OPEN), after: base({ note: str }, ['id', 'note'], OPEN), expected: 'forward', kind: 'property-added-required' },
  { change: 'add required property (closed model)', before: base({}, ['id'], CLOSED), after: base({ note: str }, ['id', 'note'], CLOSED), expected: 'breaking' },
  { change: 'remove optional property (open model)', before: base({ note: str }, ['id'], OPEN), after: base({}, ['id'], OPEN), expected: 'full', kind: 'property-removed-optional' },
  { change: 'remove optional property (closed model)', before: base({ note: str }, ['id'], CLOSED), after: base({}, ['id'], CLOSED), expected: 'forward' },
  { change: 'remove required property (open model)', before: base({ note: str }, ['id', 'note'], OPEN), after: base({}, ['id'], OPEN), expected: 'backward', kind: 'property-removed-required' },
  { change: 'remove required property (closed model)', before: base({ note: str }, ['id', 'note'], CLOSED), after: base({}, ['id'], CLOSED), expected: 'breaking' },
  { change: 'rename a required property', before: obj({ fileName: str }, ['fileName']), after: obj({ name: str }, ['name']), expected: 'breaking', path: '/fileName' },
  { change: 'change type string -> integer', before: base({ n: str }), after: base({ n: int }), expected: 'breaking', path: '/n', kind: 'type-changed' },
  { change: 'widen type integer -> number', before: base({ n: int }), after: base({ n: num }), expected: 'backward', kind: 'type-widened' },
  { change: 'narrow type number -> integer', before: base({ n: num }), after: base({ n: int }), expected: 'forward', kind: 'type-narrowed' },
  { change: 'make a property nullable', before: base({ n: str }), after: base({ n: { type: ['string', 'null'] } }), expected: 'backward' },
  { change: 'widen enum (add a value)', before: base({ s: { type: 'string', enum: ['buy', 'sell'] } }), after: base({ s: { type: 'string', enum: ['buy', 'sell', 'switch'] } }), expected: 'backward', kind: 'enum-widened' },
  { change: 'narrow enum (remove a value)', before: base({ s: { enum: ['buy', 'sell'] } }), after: base({ s: { enum: ['buy'] } }), expected: 'forward', kind: 'enum-narrowed' },
  { change: 'replace an enum value', before: base({ s: { enum: ['buy', 'sell'] } }), after: base({ s: { enum: ['buy', 'redeem'] } }), expected: 'breaking' },
  { change: 'change a const', before: base({ s: { const: 'a' } }), after: base({ s: { const: 'b' } }), expected: 'breaking' },
  { change: 'additionalProperties false -> true', before: base({}, ['id'], CLOSED), after: base({}, ['id'], true), expected: 'backward', kind: 'additional-properties-opened' },
  { change: 'additionalProperties true -> false', before: base({}, ['id'], true), after: base({}, ['id'], CLOSED), expected: 'forward', kind: 'additional-properties-closed' },
  { change: 'required -> optional', before: base({ n: str }, ['id', 'n']), after: base({ n: str }, ['id']), expected: 'backward', path: '/n', kind: 'required-to-optional' },
  { change: 'optional -> required', before: base({ n: str }, ['id']), after: base({ n: str }, ['id', 'n']), expected: 'forward', kind: 'optional-to-required' },
  {
    change: 'nested object: required property added (closed)',
    before: base({ price: obj({ amount: num }, ['amount'], false) }),
    after: base({ price: obj({ amount: num, currency: str }, ['amount', 'currency'], false) }),
    expected: 'breaking',
    path: '/price/currency',
  },
  {
    change: 'array items: property retyped',
    before: base({ lines: { type: 'array', items: obj({ units: num }, ['units']) } }),
    after: base({ lines: { type: 'array', items: obj({ units: str }, ['units']) } }),
    expected: 'breaking',
    path: '/lines/[]/units',
  },
  { change: 'minLength raised', before: base({ s: { type: 'string', minLength: 1 } }), after: base({ s: { type: 'string', minLength: 3 } }), expected: 'forward', kind: 'bound-tightened' },
  { change: 'maximum lowered', before: base({ n: { type: 'number', maximum: 100 } }), after: base({ n: { type: 'number', maximum: 10 } }), expected: 'forward' },
  { change: 'maximum raised', before: base({ n: { type: 'number', maximum: 10 } }), after: base({ n: { type: 'number', maximum: 100 } }), expected: 'backward', kind: 'bound-loosened' },
  { change: 'minItems added', before: base({ a: { type: 'array' } }), after: base({ a: { type: 'array', minItems: 1 } }), expected: 'forward' },
  { change: 'pattern added', before: base({ s: str }), after: base({ s: { type: 'string', pattern: '^[A-Z]+$' } }), expected: 'forward', kind: 'pattern-added' },
  { change: 'pattern removed', before: base({ s: { type: 'string', pattern: '^[A-Z]+$' } }), after: base({ s: str }), expected: 'backward' },
  { change: 'pattern changed', before: base({ s: { type: 'string', pattern: '^[A-Z]+$' } }), after: base({ s: { type: 'string', pattern: '^[a-z]+$' } }), expected: 'breaking' },
  { change: 'format added', before: base({ d: str }), after: base({ d: { type: 'string', format: 'date' } }), expected: 'forward', kind: 'format-added' },
  { change: 'oneOf alternative added', before: base({ r: { oneOf: [{ type: 'null' }] } }), after: base({ r: { oneOf: [{ type: 'null' }, obj({ a: str })] } }), expected: 'backward', kind: 'oneOf-branch-added' },
  { change: 'description only (meaning)', before: { ...base(), description: 'A thing happened.' }, after: { ...base(), description: 'Another thing happened.' }, expected: 'full', kind: 'description-changed' },
  { change: 'a keyword this check cannot reason about', before: base({ s: { not: { const: 'x' } } }), after: base({ s: { not: { const: 'y' } } }), expected: 'breaking', kind: 'keyword-changed' },
]

describe('schema changes and their compatibility (Confluent definitions)', () => {
  it.each(table)('$change -> $expected', ({ before, after, expected, path, kind }) => {
    const changes = diffSchemas(before, after)
    expect(changes.length).toBeGreaterThan(0)
    expect(combine(changes)).toBe(expected)
    if (path !== undefined) expect(changes.map((c) => c.path)).toContain(path)
    if (kind !== undefined) expect(changes.map((c) => c.kind)).toContain(kind)
    for (const change of changes) expect(change.reason).not.toBe('')
  })

  it('has at least 15 rows', () => {
    expect(table.length).toBeGreaterThanOrEqual(15)
  })

  it('reports nothing for equal schemas or a mere reordering', () => {
    expect(diffSchemas(base({ n: num }), base({ n: num }))).toEqual([])
    // Enum order and required order carry no meaning.
    expect(diffSchemas(base({ s: { enum: ['buy', 'sell'] } }), base({ s: { enum: ['sell', 'buy'] } }))).toEqual([])
    expect(diffSchemas(base({ n: num }, ['id', 'n']), base({ n: num }, ['n', 'id']))).toEqual([])
    expect(combine([])).toBe('full')
  })

  it('says a removed and an added property with one schema look like a rename', () => {
    const changes = diffSchemas(obj({ fileName: str }, ['fileName']), obj({ name: str }, ['name']))
    expect(changes.find((c) => c.path === '/fileName')?.reason).toContain('renamed to "name"?')
    expect(changes.find((c) => c.path === '/name')?.reason).toContain('events already written lack it')
  })

  it('does not descend into a property whose type changed beyond recognition', () => {
    const changes = diffSchemas(base({ p: obj({ a: str }, ['a']) }), base({ p: str }))
    expect(changes.map((c) => c.kind)).toEqual(['type-changed'])
  })

  it('meets: full meets every level, breaking none', () => {
    expect(meets('full', 'full')).toBe(true)
    expect(meets('backward', 'backward')).toBe(true)
    expect(meets('backward', 'full')).toBe(false)
    expect(meets('forward', 'backward')).toBe(false)
    expect(meets('breaking', 'forward')).toBe(false)
  })
})
