import fc from 'fast-check'

type Schema = Readonly<Record<string, unknown>> | boolean

/**
 * A fast-check arbitrary of values a JSON Schema (draft-07 subset) accepts: type, enum, const,
 * properties/required, items, min/max (length, items, value), pattern, the common formats,
 * oneOf/anyOf, allOf of objects, and local `$ref`s. Arrays are kept short and optional
 * properties come and go, so shrinking reaches small payloads. Generated values are checked
 * against the contract by the caller; what this subset cannot express is filtered there.
 */
export function schemaArbitrary(schema: Schema, root: Schema = schema, depth = 0): fc.Arbitrary<unknown> {
  if (schema === true || schema === undefined) return fc.jsonValue({ maxDepth: 1 })
  if (schema === false) return fc.constant(null)
  const s = schema
  if (typeof s.$ref === 'string') return schemaArbitrary(resolveRef(root, s.$ref), root, depth + 1)
  if ('const' in s) return fc.constant(s.const)
  if (Array.isArray(s.enum)) return fc.constantFrom(...(s.enum as unknown[]))
  const alternatives = (s.oneOf ?? s.anyOf) as Schema[] | undefined
  if (Array.isArray(alternatives)) return fc.oneof(...alternatives.map((a) => schemaArbitrary(merge(s, a), root, depth + 1)))
  if (Array.isArray(s.allOf)) return schemaArbitrary((s.allOf as Schema[]).reduce<Schema>((acc, part) => merge(acc, part), withoutKey(s, 'allOf')), root, depth + 1)
  const type = s.type
  if (Array.isArray(type)) return fc.oneof(...(type as string[]).map((t) => schemaArbitrary({ ...s, type: t }, root, depth)))
  switch (type) {
    case 'string':
      return stringArbitrary(s)
    case 'integer':
      return fc.integer({ min: num(s.minimum, -1_000), max: num(s.maximum, 1_000) })
    case 'number':
      return fc.double({ min: num(s.minimum, -1_000), max: num(s.maximum, 1_000), noNaN: true, noDefaultInfinity: true }).map((n) => Math.round(n * 10_000) / 10_000)
    case 'boolean':
      return fc.boolean()
    case 'null':
      return fc.constant(null)
    case 'array': {
      const item = schemaArbitrary((s.items as Schema | undefined) ?? true, root, depth + 1)
      const minLength = num(s.minItems, 0)
      return fc.array(item, { minLength, maxLength: Math.max(minLength, Math.min(num(s.maxItems, 3), depth > 2 ? minLength : 3)) })
    }
    case 'object':
    default:
      if (type === undefined && s.properties === undefined) return fc.jsonValue({ maxDepth: 1 })
      return objectArbitrary(s, root, depth)
  }
}

function objectArbitrary(s: Readonly<Record<string, unknown>>, root: Schema, depth: number): fc.Arbitrary<unknown> {
  const properties = (s.properties ?? {}) as Record<string, Schema>
  const required = new Set((s.required ?? []) as string[])
  const model: Record<string, fc.Arbitrary<unknown>> = {}
  for (const [name, sub] of Object.entries(properties)) model[name] = schemaArbitrary(sub, root, depth + 1)
  for (const name of required) model[name] ??= fc.jsonValue({ maxDepth: 1 })
  return fc.record(model, { requiredKeys: [...required] })
}

const FORMATS: Record<string, () => fc.Arbitrary<string>> = {
  'date-time': () => fc.date({ min: new Date('2026-01-01T00:00:00Z'), max: new Date('2026-12-31T23:59:59Z'), noInvalidDate: true }).map((d) => d.toISOString()),
  date: () => fc.date({ min: new Date('2026-01-01T00:00:00Z'), max: new Date('2026-12-31T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)),
  email: () => fc.emailAddress(),
  uuid: () => fc.uuid(),
  uri: () => fc.webUrl(),
}

function stringArbitrary(s: Readonly<Record<string, unknown>>): fc.Arbitrary<string> {
  const format = typeof s.format === 'string' ? FORMATS[s.format] : undefined
  if (format) return format()
  const minLength = num(s.minLength, 0)
  if (typeof s.pattern === 'string') {
    const max = num(s.maxLength, Number.POSITIVE_INFINITY)
    return fc.stringMatching(new RegExp(s.pattern)).filter((v) => v.length >= minLength && v.length <= max)
  }
  const maxLength = Math.max(minLength, num(s.maxLength, Math.max(8, minLength)))
  return fc.string({ minLength, maxLength, unit: 'grapheme-ascii' })
}

function resolveRef(root: Schema, ref: string): Schema {
  if (!ref.startsWith('#')) throw new Error(`only local $ref is supported, got ${ref}`)
  let node: unknown = root
  for (const part of ref.slice(1).split('/').filter(Boolean)) {
    node = (node as Record<string, unknown> | undefined)?.[decodeURIComponent(part.replace(/~1/g, '/').replace(/~0/g, '~'))]
  }
  if (node === undefined) throw new Error(`$ref ${ref} points nowhere`)
  return node as Schema
}

function merge(base: Schema, part: Schema): Schema {
  if (typeof base === 'boolean' || typeof part === 'boolean') return part
  const strip = withoutKey(withoutKey(withoutKey(base, 'oneOf'), 'anyOf'), 'allOf')
  return {
    ...strip,
    ...part,
    properties: { ...((strip.properties ?? {}) as object), ...((part.properties ?? {}) as object) },
    required: [...new Set([...((strip.required ?? []) as string[]), ...((part.required ?? []) as string[])])],
  }
}

function withoutKey(s: Readonly<Record<string, unknown>>, key: string): Record<string, unknown> {
  const { [key]: _drop, ...rest } = s
  return rest
}

function num(value: unknown, fallback: number): number {
  return typeof value === 'number' ? value : fallback
}
