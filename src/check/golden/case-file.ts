import { readFile } from 'node:fs/promises'
import { EventspineError } from '../../errors.js'
import type { Expected, ExpectedEmit, StateValue } from './expect.js'
import type { InputEvent } from './run.js'
import type { GoldenCase } from './spec.js'

/** One case of a file, with the consumer it names. */
export interface FileCase extends GoldenCase {
  readonly consumer: string
  readonly file: string
}

/** Where `pipeline test --help` and the errors point: the format in one line. */
export const CASE_FORMAT =
  '{ "consumer": "<name>", "cases": [{ "name": "...", "given": { "state": {...}, "events": [...] }, "when": [{ "type", "key", "payload" }], "then": { "emits": [...], "state": {...} } }] }'

/**
 * Reads a `*.case.json` file: one case (`consumer`, `name`, `given`, `when`, `then` at the top)
 * or several (`consumer` and `cases: [...]`; a case may name its own `consumer`). Every field is
 * checked, unknown ones too (a typo would otherwise check nothing): a bad file is a usage error
 * naming the file and the field.
 */
export async function readCaseFile(path: string, label = path): Promise<FileCase[]> {
  // Errors name the file as the user gave or found it; cases keep the full path.
  const file = label
  let doc: unknown
  try {
    doc = JSON.parse(await readFile(path, 'utf8')) as unknown
  } catch (error) {
    throw caseError(file, '', error instanceof SyntaxError ? `is not JSON (${error.message})` : `cannot be read (${(error as Error).message})`)
  }
  const top = object(file, '', doc, ['consumer', 'cases', 'name', 'given', 'when', 'then'])
  const fileConsumer = top['consumer'] === undefined ? undefined : string(file, 'consumer', top['consumer'])
  const located = (c: FileCase): FileCase => ({ ...c, file: path })
  if (top['cases'] === undefined) return [located(parseCase(file, '', top, fileConsumer))]
  for (const k of ['name', 'given', 'when', 'then']) if (k in top) throw caseError(file, k, 'belongs inside a case when the file has "cases"')
  const list = top['cases']
  if (!Array.isArray(list) || list.length === 0) throw caseError(file, 'cases', 'must be a non-empty list of cases')
  const cases = list.map((c, i) => parseCase(file, `cases[${i}]`, object(file, `cases[${i}]`, c, ['consumer', 'name', 'given', 'when', 'then']), fileConsumer))
  const names = new Set<string>()
  cases.forEach((c, i) => {
    if (names.has(c.name)) throw caseError(file, `cases[${i}].name`, `"${c.name}" names two cases of the file`)
    names.add(c.name)
  })
  return cases.map(located)
}

function parseCase(file: string, at: string, raw: Record<string, unknown>, fileConsumer: string | undefined): FileCase {
  const path = (field: string) => (at === '' ? field : `${at}.${field}`)
  const consumer = raw['consumer'] === undefined ? fileConsumer : string(file, path('consumer'), raw['consumer'])
  if (consumer === undefined) throw caseError(file, path('consumer'), 'is missing: name the consumer the case runs (at the top of the file, or in the case)')
  const name = string(file, path('name'), raw['name'])
  const whenRaw = raw['when']
  if (whenRaw === undefined) throw caseError(file, path('when'), 'is missing: the input events, [{ "type", "key", "payload" }]')
  const when = (Array.isArray(whenRaw) ? whenRaw : [whenRaw]).map((e, i) => inputEvent(file, `${path('when')}[${i}]`, e))
  if (when.length === 0) throw caseError(file, path('when'), 'lists no event')
  let given: GoldenCase['given']
  if (raw['given'] !== undefined) {
    const g = object(file, path('given'), raw['given'], ['state', 'events'])
    const events = g['events'] === undefined ? undefined : list(file, path('given.events'), g['events']).map((e, i) => inputEvent(file, `${path('given.events')}[${i}]`, e))
    const state = g['state'] === undefined ? undefined : stateMap(file, path('given.state'), g['state'], false)
    given = { ...(state ? { state: state as Record<string, StateValue> } : {}), ...(events ? { events } : {}) }
  }
  const then = expected(file, path('then'), raw['then'])
  return { file, consumer, name, ...(given ? { given } : {}), when, then }
}

function inputEvent(file: string, at: string, raw: unknown): InputEvent {
  const e = object(file, at, raw, ['type', 'key', 'payload', 'version', 'id', 'correlationId'])
  if (!('payload' in e)) throw caseError(file, `${at}.payload`, 'is missing: the event\'s payload, as its contract describes it')
  return {
    type: string(file, `${at}.type`, e['type']),
    key: string(file, `${at}.key`, e['key']),
    payload: e['payload'],
    ...(e['version'] === undefined ? {} : { version: integer(file, `${at}.version`, e['version']) }),
    ...(e['id'] === undefined ? {} : { id: string(file, `${at}.id`, e['id']) }),
    ...(e['correlationId'] === undefined ? {} : { correlationId: string(file, `${at}.correlationId`, e['correlationId']) }),
  }
}

function expected(file: string, at: string, raw: unknown): Expected {
  if (raw === undefined) throw caseError(file, at, 'is missing: what the case expects ({ "emits": [...], "state": {...} })')
  const t = object(file, at, raw, ['emits', 'state', 'deadLettered', 'inspect'])
  if (Object.keys(t).length === 0) throw caseError(file, at, 'expects nothing: give emits, state, deadLettered or inspect')
  const emits = t['emits'] === undefined ? undefined : list(file, `${at}.emits`, t['emits']).map((x, i) => expectedEmit(file, `${at}.emits[${i}]`, x))
  const state = t['state'] === undefined ? undefined : stateMap(file, `${at}.state`, t['state'], true)
  const dead = t['deadLettered'] === undefined ? undefined : list(file, `${at}.deadLettered`, t['deadLettered']).map((x, i) => {
    const d = object(file, `${at}.deadLettered[${i}]`, x, ['event', 'error'])
    return { event: integer(file, `${at}.deadLettered[${i}].event`, d['event']), ...(d['error'] === undefined ? {} : { error: string(file, `${at}.deadLettered[${i}].error`, d['error']) }) }
  })
  return { ...(emits ? { emits } : {}), ...(state ? { state } : {}), ...(dead ? { deadLettered: dead } : {}), ...('inspect' in t ? { inspect: t['inspect'] } : {}) }
}

function expectedEmit(file: string, at: string, raw: unknown): ExpectedEmit {
  const x = object(file, at, raw, ['type', 'key', 'version', 'payload', 'payloadIncludes'])
  if ('payload' in x && 'payloadIncludes' in x) throw caseError(file, at, 'gives both payload (exact) and payloadIncludes (a subset): keep one')
  return {
    type: string(file, `${at}.type`, x['type']),
    ...(x['key'] === undefined ? {} : { key: string(file, `${at}.key`, x['key']) }),
    ...(x['version'] === undefined ? {} : { version: integer(file, `${at}.version`, x['version']) }),
    ...('payload' in x ? { payload: x['payload'] } : {}),
    ...('payloadIncludes' in x ? { payloadIncludes: x['payloadIncludes'] } : {}),
  }
}

function stateMap(file: string, at: string, raw: unknown, nullable: boolean): Record<string, StateValue | null> {
  const m = object(file, at, raw)
  for (const [name, v] of Object.entries(m)) {
    if (typeof v === 'string' || (v !== null && typeof v === 'object' && !Array.isArray(v)) || (nullable && v === null)) continue
    throw caseError(file, `${at}.${name}`, `must be a string (a string key), an object (a hash), or { "$json": value }${nullable ? ', or null (absent)' : ''}`)
  }
  return m as Record<string, StateValue | null>
}

function object(file: string, at: string, raw: unknown, allowed?: readonly string[]): Record<string, unknown> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw caseError(file, at, 'must be an object')
  const o = raw as Record<string, unknown>
  const unknown = allowed === undefined ? [] : Object.keys(o).filter((k) => !allowed.includes(k))
  if (unknown.length > 0) throw caseError(file, at === '' ? (unknown[0] as string) : `${at}.${unknown[0] as string}`, `is not a field here (known: ${(allowed ?? []).join(', ')})`)
  return o
}

function list(file: string, at: string, raw: unknown): unknown[] {
  if (!Array.isArray(raw)) throw caseError(file, at, 'must be a list')
  return raw
}

function string(file: string, at: string, raw: unknown): string {
  if (typeof raw !== 'string' || raw === '') throw caseError(file, at, raw === undefined ? 'is missing (a string)' : 'must be a non-empty string')
  return raw
}

function integer(file: string, at: string, raw: unknown): number {
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 0) throw caseError(file, at, 'must be a whole number')
  return raw
}

function caseError(file: string, field: string, what: string): EventspineError {
  return new EventspineError('E_GOLDEN_CASE', `${file}: ${field === '' ? 'the file' : field} ${what}`, {
    hint: `Fix the case file. Its format: ${CASE_FORMAT} (see pipeline test --help).`,
    details: { usage: true, file, field },
  })
}
