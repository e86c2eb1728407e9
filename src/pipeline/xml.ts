import { XMLParser, XMLValidator } from 'fast-xml-parser'
import { MAX_ROWS } from './parse.js'
import type { ParseResult } from './parse.js'
import type { MappingProfile, XmlColumn, XmlLayout } from './profiles.js'
import type { Issue } from './types.js'

/** Deepest element nesting accepted in an XML file: 64. Deeper is rejected with rule `xml-too-deep`. */
export const MAX_XML_DEPTH = 64

const fail = (rule: string, message: string): ParseResult => ({ ok: false, issue: { rule, message } })

/**
 * Element nesting depth, counted in one pass without recursion and stopping at `limit + 1`, so
 * a 200,000-deep document costs one scan and never reaches the parser. Comments, CDATA,
 * processing instructions and quoted attribute values are skipped.
 */
export function xmlDepth(text: string, limit = MAX_XML_DEPTH): number {
  let depth = 0
  let deepest = 0
  let i = 0
  while (i < text.length) {
    const lt = text.indexOf('<', i)
    if (lt < 0) break
    if (text.startsWith('<!--', lt)) i = skipTo(text, '-->', lt)
    else if (text.startsWith('<![CDATA[', lt)) i = skipTo(text, ']]>', lt)
    else if (text[lt + 1] === '?' || text[lt + 1] === '!') i = skipTo(text, '>', lt)
    else if (text[lt + 1] === '/') {
      depth--
      i = skipTo(text, '>', lt)
    } else {
      let j = lt + 1
      let quote = ''
      while (j < text.length && (quote !== '' || text[j] !== '>')) {
        const c = text[j] as string
        if (quote !== '') {
          if (c === quote) quote = ''
        } else if (c === '"' || c === "'") quote = c
        j++
      }
      if (text[j - 1] !== '/') {
        depth++
        if (depth > deepest) deepest = depth
        if (deepest > limit) return deepest
      }
      i = j + 1
    }
  }
  return deepest
}

function skipTo(text: string, end: string, from: number): number {
  const at = text.indexOf(end, from)
  return at < 0 ? text.length : at + end.length
}

/** The five predefined entities and character references: text, not expansion (DOCTYPE is refused before). */
function unescapeXml(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);/g, (whole, ref: string) => {
    if (ref === 'lt') return '<'
    if (ref === 'gt') return '>'
    if (ref === 'amp') return '&'
    if (ref === 'quot') return '"'
    if (ref === 'apos') return "'"
    const code = ref.startsWith('#x') ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10)
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole
  })
}

/** The root element's local name and namespace (default or of its prefix), read from its start tag. */
export function rootElement(text: string): { name: string; namespace: string } | null {
  const tag = /<(?![?!/])([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)([^>]*)>/.exec(text.replace(/<!--[\s\S]*?-->/g, ''))
  if (tag === null) return null
  const prefix = (tag[1] ?? '').replace(/:$/, '')
  const attr = new RegExp(`xmlns${prefix === '' ? '' : `:${prefix}`}\\s*=\\s*("([^"]*)"|'([^']*)')`).exec(tag[3] ?? '')
  return { name: tag[2] ?? '', namespace: attr === null ? '' : (attr[2] ?? attr[3] ?? '') }
}

type Node = Record<string, unknown>

const localName = (key: string): string => key.slice(key.indexOf(':') + 1)

/** Child elements of `node` named `name` (any prefix). Every element is an array: the parser is told so. */
function children(node: Node, name: string): Node[] {
  const out: Node[] = []
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith('@') || localName(key) !== name || !Array.isArray(value)) continue
    for (const v of value) out.push(typeof v === 'object' && v !== null ? (v as Node) : { '#text': v })
  }
  return out
}

/** Every node at `path` below `node`, each with its chain of ancestors (nearest last). */
function walk(chain: readonly Node[], path: string): Node[][] {
  let chains: Node[][] = [[...chain]]
  for (const step of path.split('/').filter((s) => s !== '')) {
    chains = chains.flatMap((c) => children(c[c.length - 1] as Node, step).map((n) => [...c, n]))
  }
  return chains
}

/** The text at a path relative to the record (`../` climbs to an ancestor, `@name` is an attribute): the first match, or ''. */
function textAt(chain: readonly Node[], path: string): string {
  let up = 0
  let rest = path
  while (rest.startsWith('../')) {
    up++
    rest = rest.slice(3)
  }
  if (up >= chain.length) return ''
  const base = chain.slice(0, chain.length - up)
  const steps = rest.split('/')
  const last = steps[steps.length - 1] ?? ''
  const attribute = last.startsWith('@') ? last : null
  const found = walk(base, (attribute === null ? steps : steps.slice(0, -1)).join('/'))[0]
  const node = found?.[found.length - 1]
  if (node === undefined) return ''
  const value = attribute === null ? node['#text'] : node[attribute]
  return typeof value === 'string' || typeof value === 'number' ? unescapeXml(String(value)).trim() : ''
}

function columnValue(root: readonly Node[], chain: readonly Node[], column: XmlColumn, lookups: Map<XmlColumn, Map<string, Node[]>>): string {
  if (typeof column === 'string') return textAt(chain, column)
  let index = lookups.get(column)
  if (index === undefined) {
    index = new Map()
    for (const c of walk(root, column.from)) {
      const key = textAt(c, column.key)
      if (key !== '' && !index.has(key)) index.set(key, c)
    }
    lookups.set(column, index)
  }
  const target = index.get(textAt(chain, column.by))
  return target === undefined ? '' : textAt(target, column.value)
}

const PARSER = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  processEntities: false, // no entity expansion of any kind; predefined entities are unescaped per value
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  isArray: (_name, _path, _leaf, isAttribute) => !isAttribute,
})

/**
 * Reads an XML file into a table under the profile whose root element it has: DOCTYPE and
 * ENTITY declarations are refused before parsing (no XXE, no billion laughs), depth is
 * counted without recursion, then the profile's record paths become rows whose columns are
 * the XML paths. The table names its provider and kind, so ingest detects neither.
 */
export function parseXmlTable(text: string, profiles: readonly MappingProfile[]): ParseResult {
  if (/<!DOCTYPE/i.test(text) || /<!ENTITY/i.test(text)) {
    return fail('xml-doctype', 'XML with a DOCTYPE or ENTITY declaration is refused: entities are never expanded (billion laughs, XXE); send the document without a DTD')
  }
  if (xmlDepth(text) > MAX_XML_DEPTH) return fail('xml-too-deep', `XML nests elements more than ${MAX_XML_DEPTH} levels deep (MAX_XML_DEPTH)`)
  const valid = XMLValidator.validate(text)
  if (valid !== true) return fail('xml-syntax', `not well-formed XML: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`)
  const root = rootElement(text)
  if (root === null) return fail('xml-syntax', 'not well-formed XML: no root element')
  const profile = profiles.find((p) => p.xml?.root === root.name)
  const layout = profile?.xml
  if (profile === undefined || layout === undefined) {
    return { ok: false, issue: { rule: 'unknown-provider', value: root.name, message: `no mapping profile reads XML with root element <${root.name}>` } }
  }
  if (!layout.namespaces.includes(root.namespace)) {
    const want = layout.namespaces.map((n) => (n === '' ? '(none)' : n)).join(' or ')
    return { ok: false, issue: { rule: 'xml-namespace', value: root.namespace, message: `<${root.name}> is in namespace "${root.namespace}"; ${profile.provider} expects ${want}` } }
  }
  const doc = PARSER.parse(text) as Node
  const top = children(doc, root.name)[0]
  if (top === undefined) return fail('xml-syntax', 'not well-formed XML: no root element')
  return recordsTable([top], layout, profile.provider)
}

function recordsTable(root: readonly Node[], layout: XmlLayout, provider: string): ParseResult {
  for (const records of layout.records) {
    const chains = walk(root, records.each)
    // `when`: the set applies if any record has it (a NAV document has prices); its rows are all records.
    if (chains.length === 0 || (records.when !== undefined && !chains.some((c) => textAt(c, records.when as string) !== ''))) continue
    if (chains.length > MAX_ROWS) return fail('too-many-rows', `file has more than ${MAX_ROWS} records (MAX_ROWS)`)
    const header = Object.keys(records.columns)
    const lookups = new Map<XmlColumn, Map<string, Node[]>>()
    const rows = chains.map((chain) => Object.fromEntries(header.map((h) => [h, columnValue(root, chain, records.columns[h] as XmlColumn, lookups)])))
    return { ok: true, table: { format: 'xml', header, rows, declaredKind: records.kind, declaredProvider: provider } }
  }
  const issue: Issue = { rule: 'no-rows', message: `the document has none of the records ${provider} reads (${layout.records.map((r) => r.each).join('; ')})` }
  return { ok: false, issue }
}
