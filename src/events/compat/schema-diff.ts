import { isDeepStrictEqual } from 'node:util'
import { toCompatibility, type Compatibility, type SchemaChange } from './compatibility.js'

/**
 * Compares two JSON Schemas of one event and lists every change with its compatibility.
 *
 * Two assumptions, stated because the answers depend on them:
 * - Producers write what their schema declares: a property that a schema does not declare is
 *   absent from the data it describes. So adding an optional property never breaks stored
 *   events, and whether old readers take the new property depends on their
 *   `additionalProperties` (a tolerant reader ignores it, a closed one refuses it).
 * - Everything else is set inclusion: a change that makes the schema accept more (wider type,
 *   more enum values, looser bounds) is backward; one that accepts less is forward.
 * A change to a keyword this comparison does not understand is reported as breaking, since its
 * safety cannot be shown.
 */
export function diffSchemas(oldSchema: unknown, newSchema: unknown): SchemaChange[] {
  const out: SchemaChange[] = []
  compare(oldSchema, newSchema, '', out)
  return out
}

type Obj = Record<string, unknown>

// Keywords that describe data without constraining it.
const ANNOTATIONS = new Set(['title', '$comment', 'examples', 'default', '$id', '$schema', 'readOnly', 'writeOnly', 'deprecated', 'contentEncoding', 'contentMediaType'])
const LOWER_BOUNDS = ['minimum', 'exclusiveMinimum', 'minLength', 'minItems', 'minProperties'] as const
const UPPER_BOUNDS = ['maximum', 'exclusiveMaximum', 'maxLength', 'maxItems', 'maxProperties'] as const
const ADDED_TIGHTENS = ['pattern', 'format'] as const
const BRANCHES = ['anyOf', 'oneOf', 'allOf'] as const
const HANDLED = new Set<string>([
  ...ANNOTATIONS, 'description', 'type', 'enum', 'const', 'multipleOf', 'uniqueItems', 'items',
  'properties', 'required', 'additionalProperties', ...LOWER_BOUNDS, ...UPPER_BOUNDS, ...ADDED_TIGHTENS, ...BRANCHES,
])

const at = (path: string): string => (path === '' ? '/' : path)
const isObj = (value: unknown): value is Obj => typeof value === 'object' && value !== null && !Array.isArray(value)

function push(out: SchemaChange[], path: string, kind: string, compatibility: Compatibility, reason: string): void {
  out.push({ path: at(path), kind, compatibility, reason })
}

// Accepts more: new readers read all old data, old readers may refuse new data.
const LOOSER: Compatibility = 'backward'
// Accepts less: old readers read all new data, new readers may refuse stored events.
const TIGHTER: Compatibility = 'forward'

function compare(a: unknown, b: unknown, path: string, out: SchemaChange[]): void {
  if (isDeepStrictEqual(a, b)) return
  const oldS = a ?? true
  const newS = b ?? true
  if (!isObj(oldS) || !isObj(newS)) {
    compareBooleanSchemas(oldS, newS, path, out)
    return
  }
  if (oldS['description'] !== newS['description']) {
    push(out, path, 'description-changed', 'full', 'the description (meaning) changed; the shape did not: check that readers still agree with it')
  }
  if (!compareTypes(oldS, newS, path, out)) return
  compareEnums(oldS, newS, path, out)
  compareBounds(oldS, newS, path, out)
  compareObjects(oldS, newS, path, out)
  compareItems(oldS, newS, path, out)
  for (const keyword of BRANCHES) compareBranches(keyword, oldS[keyword], newS[keyword], path, out)
  for (const keyword of new Set([...Object.keys(oldS), ...Object.keys(newS)])) {
    if (HANDLED.has(keyword) || keyword.startsWith('x-')) continue
    if (!isDeepStrictEqual(oldS[keyword], newS[keyword])) {
      push(out, path, 'keyword-changed', 'breaking', `"${keyword}" changed and its effect cannot be proved compatible`)
    }
  }
}

function compareBooleanSchemas(a: unknown, b: unknown, path: string, out: SchemaChange[]): void {
  // `true` (or no schema) accepts anything, `false` nothing.
  const looser = b === true || a === false
  const tighter = a === true || b === false
  const compatibility = looser && !tighter ? LOOSER : tighter && !looser ? TIGHTER : 'breaking'
  push(out, path, 'schema-replaced', compatibility, `the schema was replaced (${JSON.stringify(a)} -> ${JSON.stringify(b)})`)
}

function typeSet(schema: Obj): Set<string> | undefined {
  const type = schema['type']
  if (type === undefined) return undefined
  return new Set(Array.isArray(type) ? type.map(String) : [String(type)])
}

function accepts(types: Set<string> | undefined, type: string): boolean {
  return types === undefined || types.has(type) || (type === 'integer' && types.has('number'))
}

/** Returns false when the types no longer overlap: comparing their keywords would only add noise. */
function compareTypes(a: Obj, b: Obj, path: string, out: SchemaChange[]): boolean {
  const oldT = typeSet(a)
  const newT = typeSet(b)
  if (isDeepStrictEqual(oldT, newT)) return true
  const backward = oldT !== undefined && [...oldT].every((t) => accepts(newT, t))
  const forward = newT !== undefined && [...newT].every((t) => accepts(oldT, t))
  const compatibility = toCompatibility({ backward: backward || newT === undefined, forward: forward || oldT === undefined })
  const show = (t: Set<string> | undefined) => (t === undefined ? 'any' : [...t].join(' | '))
  const kind = compatibility === LOOSER ? 'type-widened' : compatibility === TIGHTER ? 'type-narrowed' : 'type-changed'
  push(out, path, kind, compatibility, `type changed from ${show(oldT)} to ${show(newT)}`)
  return compatibility !== 'breaking'
}

function enumOf(schema: Obj): unknown[] | undefined {
  if ('const' in schema) return [schema['const']]
  return Array.isArray(schema['enum']) ? schema['enum'] : undefined
}

function compareEnums(a: Obj, b: Obj, path: string, out: SchemaChange[]): void {
  const oldE = enumOf(a)
  const newE = enumOf(b)
  if (isDeepStrictEqual(oldE, newE)) return
  const has = (values: unknown[] | undefined, v: unknown) => values === undefined || values.some((x) => isDeepStrictEqual(x, v))
  const added = newE === undefined ? ['(any value)'] : newE.filter((v) => !has(oldE, v))
  const removed = oldE === undefined ? ['(any value)'] : oldE.filter((v) => !has(newE, v))
  if (added.length === 0 && removed.length === 0) return // same values, another order
  const compatibility = toCompatibility({ backward: removed.length === 0, forward: added.length === 0 })
  const kind = compatibility === LOOSER ? 'enum-widened' : compatibility === TIGHTER ? 'enum-narrowed' : 'enum-changed'
  const list = (values: unknown[]) => values.map((v) => (typeof v === 'string' && v.startsWith('(') ? v : JSON.stringify(v))).join(', ')
  const parts = [added.length > 0 ? `values added: ${list(added)}` : '', removed.length > 0 ? `values removed: ${list(removed)}` : '']
  push(out, path, kind, compatibility, `allowed values changed (${parts.filter(Boolean).join('; ')})`)
}

function compareBounds(a: Obj, b: Obj, path: string, out: SchemaChange[]): void {
  const bound = (keyword: string, tighterWhen: (o: number, n: number) => boolean) => {
    const o = a[keyword]
    const n = b[keyword]
    if (o === n || (typeof o !== 'number' && o !== undefined) || (typeof n !== 'number' && n !== undefined)) return
    const tighter = o === undefined || (n !== undefined && tighterWhen(o, n))
    push(out, path, tighter ? 'bound-tightened' : 'bound-loosened', tighter ? TIGHTER : LOOSER, `${keyword} ${o ?? '(none)'} -> ${n ?? '(none)'}`)
  }
  for (const keyword of LOWER_BOUNDS) bound(keyword, (o, n) => n > o)
  for (const keyword of UPPER_BOUNDS) bound(keyword, (o, n) => n < o)
  for (const keyword of ADDED_TIGHTENS) {
    const o = a[keyword]
    const n = b[keyword]
    if (isDeepStrictEqual(o, n)) continue
    if (o === undefined) push(out, path, `${keyword}-added`, TIGHTER, `${keyword} ${JSON.stringify(n)} added`)
    else if (n === undefined) push(out, path, `${keyword}-removed`, LOOSER, `${keyword} ${JSON.stringify(o)} removed`)
    else push(out, path, `${keyword}-changed`, 'breaking', `${keyword} changed from ${JSON.stringify(o)} to ${JSON.stringify(n)}`)
  }
  const oldM = a['multipleOf']
  const newM = b['multipleOf']
  if (oldM !== newM) {
    const o = typeof oldM === 'number' ? oldM : undefined
    const n = typeof newM === 'number' ? newM : undefined
    const divides = (x: number, y: number) => Number.isInteger(Number((y / x).toFixed(9)))
    const compatibility = o === undefined ? TIGHTER : n === undefined ? LOOSER : divides(o, n) ? TIGHTER : divides(n, o) ? LOOSER : 'breaking'
    push(out, path, 'multipleOf-changed', compatibility, `multipleOf ${o ?? '(none)'} -> ${n ?? '(none)'}`)
  }
  if (Boolean(a['uniqueItems']) !== Boolean(b['uniqueItems'])) {
    const tighter = b['uniqueItems'] === true
    push(out, path, tighter ? 'bound-tightened' : 'bound-loosened', tighter ? TIGHTER : LOOSER, `uniqueItems ${tighter ? 'required' : 'no longer required'}`)
  }
}

// A reader whose object schema takes properties it does not declare.
function tolerates(schema: Obj): boolean {
  const extra = schema['additionalProperties']
  return extra === undefined || extra === true || (isObj(extra) && Object.keys(extra).length === 0)
}

function compareObjects(a: Obj, b: Obj, path: string, out: SchemaChange[]): void {
  const oldP = isObj(a['properties']) ? a['properties'] : {}
  const newP = isObj(b['properties']) ? b['properties'] : {}
  const oldR = new Set(Array.isArray(a['required']) ? a['required'].map(String) : [])
  const newR = new Set(Array.isArray(b['required']) ? b['required'].map(String) : [])
  const oldNames = new Set([...Object.keys(oldP), ...oldR])
  const newNames = new Set([...Object.keys(newP), ...newR])
  const added: string[] = []
  const removed: string[] = []
  for (const name of [...new Set([...oldNames, ...newNames])].sort()) {
    const child = `${path}/${name}`
    if (oldNames.has(name) && newNames.has(name)) {
      compare(oldP[name], newP[name], child, out)
      if (oldR.has(name) && !newR.has(name)) push(out, child, 'required-to-optional', LOOSER, 'required -> optional: readers on the old schema refuse events that omit it')
      if (!oldR.has(name) && newR.has(name)) push(out, child, 'optional-to-required', TIGHTER, 'optional -> required: stored events that omit it no longer validate')
    } else if (newNames.has(name)) {
      added.push(name)
    } else {
      removed.push(name)
    }
  }
  const renames = likelyRenames(removed, added, oldP, newP)
  for (const name of added) {
    const required = newR.has(name)
    const forward = tolerates(a)
    const why = [
      required ? 'events already written lack it' : '',
      forward ? '' : 'readers on the old schema refuse it (additionalProperties is false)',
    ].filter(Boolean)
    const reason = `${required ? 'required' : 'optional'} property added${why.length > 0 ? `: ${why.join('; ')}` : ''}${renames.get(name) ?? ''}`
    push(out, `${path}/${name}`, required ? 'property-added-required' : 'property-added-optional', toCompatibility({ backward: !required, forward }), reason)
  }
  for (const name of removed) {
    const required = oldR.has(name)
    const backward = tolerates(b)
    const why = [
      required ? 'readers on the old schema require it' : '',
      backward ? '' : 'events already written carry it and the new schema refuses it (additionalProperties is false)',
    ].filter(Boolean)
    const reason = `${required ? 'required' : 'optional'} property removed${why.length > 0 ? `: ${why.join('; ')}` : ''}${renames.get(name) ?? ''}`
    push(out, `${path}/${name}`, required ? 'property-removed-required' : 'property-removed-optional', toCompatibility({ backward, forward: !required }), reason)
  }
  compareAdditional(a, b, path, out)
}

// A removed and an added property with the same schema at the same level read as a rename.
function likelyRenames(removed: string[], added: string[], oldP: Obj, newP: Obj): Map<string, string> {
  const notes = new Map<string, string>()
  for (const from of removed) {
    const to = added.find((name) => !notes.has(name) && isDeepStrictEqual(oldP[from], newP[name]))
    if (to === undefined) continue
    notes.set(from, ` (renamed to "${to}"?)`)
    notes.set(to, ` (renamed from "${from}"?)`)
  }
  return notes
}

function compareAdditional(a: Obj, b: Obj, path: string, out: SchemaChange[]): void {
  const o = a['additionalProperties'] ?? true
  const n = b['additionalProperties'] ?? true
  if (isDeepStrictEqual(o, n)) return
  if (o === false || n === true) {
    push(out, path, 'additional-properties-opened', LOOSER, `additionalProperties ${JSON.stringify(o)} -> ${JSON.stringify(n)}: readers on the old schema refuse undeclared properties that new producers may send`)
  } else if (o === true || n === false) {
    push(out, path, 'additional-properties-closed', TIGHTER, `additionalProperties ${JSON.stringify(o)} -> ${JSON.stringify(n)}: undeclared properties in events already written are now refused`)
  } else {
    compare(o, n, `${path}/(additional)`, out)
  }
}

function compareItems(a: Obj, b: Obj, path: string, out: SchemaChange[]): void {
  const o = a['items']
  const n = b['items']
  if (isDeepStrictEqual(o, n)) return
  if (Array.isArray(o) || Array.isArray(n)) {
    push(out, `${path}/[]`, 'tuple-changed', 'breaking', 'tuple items changed and cannot be proved compatible')
    return
  }
  compare(o, n, `${path}/[]`, out)
}

function compareBranches(keyword: (typeof BRANCHES)[number], a: unknown, b: unknown, path: string, out: SchemaChange[]): void {
  if (isDeepStrictEqual(a, b)) return
  const union = keyword !== 'allOf'
  const label = (i: number) => `${path}(${keyword} ${i + 1})`
  if (!Array.isArray(a) || !Array.isArray(b)) {
    // A new alternative list constrains what was free; dropping one frees it (allOf alike).
    const tighter = a === undefined
    push(out, path, `${keyword}-${tighter ? 'added' : 'removed'}`, tighter ? TIGHTER : LOOSER, `"${keyword}" ${tighter ? 'added' : 'removed'}`)
    return
  }
  if (a.length === b.length) {
    a.forEach((branch, i) => compare(branch, b[i], label(i), out))
    return
  }
  const inOld = (s: unknown) => a.some((x) => isDeepStrictEqual(x, s))
  const inNew = (s: unknown) => b.some((x) => isDeepStrictEqual(x, s))
  b.forEach((branch, i) => {
    if (!inOld(branch)) push(out, label(i), `${keyword}-branch-added`, union ? LOOSER : TIGHTER, `a "${keyword}" alternative was added`)
  })
  a.forEach((branch, i) => {
    if (!inNew(branch)) push(out, label(i), `${keyword}-branch-removed`, union ? TIGHTER : LOOSER, `a "${keyword}" alternative was removed`)
  })
}
