import { Parser } from '@asyncapi/parser'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { buildCatalog, formatCatalog, toAsyncApi, type Participant } from '../../src/events/compat/index.js'
import { defaultContractsDir, loadContracts } from '../../src/events/index.js'
import { EVENT, pipelineConsumers } from '../../src/pipeline/index.js'

const UPCAST = fileURLToPath(new URL('../fixtures-schema/upcast', import.meta.url))
const ERROR = 0
const WARNING = 1

// As `pipeline schema list/export` see the built-in pipeline: the intake plus the consumer definitions.
const participants: Participant[] = [{ name: 'intake', emits: [EVENT.received] }, ...pipelineConsumers({ outDir: '/nonexistent' })]

async function parse(document: object) {
  const { document: parsed, diagnostics } = await new Parser().parse(JSON.stringify(document))
  const problems = diagnostics.filter((d) => d.severity === ERROR || d.severity === WARNING).map((d) => `${d.code} at ${d.path.join('/')}: ${d.message}`)
  return { parsed, problems }
}

describe('catalog from the code', () => {
  const catalog = buildCatalog({ registry: loadContracts(defaultContractsDir()), participants })

  it('lists every pipeline type with its meaning, producers and consumers', () => {
    // The pipeline's types, and reference.changed: written by a reference service's outbox, followed by enrich and resolve.
    expect(catalog.types.map((t) => t.type)).toEqual([...Object.values(EVENT), 'reference.changed'].sort())
    const received = catalog.types.find((t) => t.type === EVENT.received)
    expect(received).toMatchObject({ latestVersion: 1, producers: ['intake'], consumers: ['file-journey', 'ingest'] })
    expect(received?.description).toMatch(/A file arrived/)
    const validated = catalog.types.find((t) => t.type === EVENT.validated)
    expect(validated?.producers).toEqual(['validate'])
    expect(validated?.consumers).toEqual(expect.arrayContaining(['enrich', 'score', 'nav-latest', 'file-journey']))
    expect(catalog.uncontracted).toEqual([])
  })

  it('prints each type with its versions and who produces and consumes it', () => {
    const text = formatCatalog(catalog)
    expect(text).toContain('pipeline.file.received  [v1]')
    expect(text).toContain('producers: intake')
  })

  it('names participants whose types have no contract', () => {
    const stray = buildCatalog({ registry: loadContracts(defaultContractsDir()), participants: [{ name: 'x', subscribes: ['nope.type'] }] })
    expect(stray.uncontracted).toEqual([{ participant: 'x', type: 'nope.type', role: 'consumer' }])
  })
})

describe('AsyncAPI export', () => {
  it('of the built-in pipeline validates with the AsyncAPI parser, without errors or warnings', async () => {
    const document = toAsyncApi(buildCatalog({ registry: loadContracts(defaultContractsDir()), participants }), { version: '0.1.0' })
    const { parsed, problems } = await parse(document)
    expect(problems).toEqual([])
    expect(parsed).toBeDefined()
    expect(parsed?.version()).toBe('3.0.0')
    expect(parsed?.channels().length).toBe(11)
    expect(parsed?.messages().length).toBe(11)
    const received = parsed?.channels().get(EVENT.received)
    expect(received?.address()).toBe(`{namespace}:stream:${EVENT.received}`)
    const sends = parsed?.operations().filterBySend().map((op) => op.id()) ?? []
    const receives = parsed?.operations().filterByReceive().map((op) => op.id()) ?? []
    expect(sends).toContain(`intake.send.${EVENT.received}`)
    expect(sends).toContain(`validate.send.${EVENT.validated}`)
    expect(receives).toContain(`ingest.receive.${EVENT.received}`)
    expect(receives).toContain(`file-journey.receive.${EVENT.delivered}`)
  })

  it('carries payload schemas, the envelope as headers, and the stream key pattern', () => {
    const document = toAsyncApi(buildCatalog({ registry: loadContracts(defaultContractsDir()), participants }), { namespace: 'acme' }) as any
    const message = document.components.messages[`${EVENT.received}.v1`]
    expect(message.payload.required).toContain('contentBase64')
    expect(message.payload.$schema).toBeUndefined()
    expect(message.payload['x-producers']).toBeUndefined()
    expect(Object.keys(message.headers.properties)).toEqual(['id', 'type', 'version', 'source', 'occurredAt', 'correlationId', 'causationId', 'key'])
    expect(message.headers.properties.type.const).toBe(EVENT.received)
    expect(message.description).toMatch(/A file arrived/)
    // The parameter is the key prefix with its hash tag, so the address resolves to the real key.
    expect(document.channels[EVENT.received].parameters.namespace.default).toBe('{acme}')
  })

  it('gives every version its own message: producers send the latest, consumers receive them all', async () => {
    const registry = loadContracts(UPCAST)
    registry.registerUpcaster('test.price.set', 1, (p: object) => ({ ...p, currency: 'EUR' }))
    registry.registerUpcaster('test.price.set', 2, (p: object) => p)
    const pricing: Participant[] = [
      { name: 'pricer', emits: ['test.price.set'] },
      { name: 'valuer', subscribes: ['test.price.set'] },
    ]
    const catalog = buildCatalog({ registry, participants: pricing })
    expect(formatCatalog(catalog)).toContain('v2: A share class was given a price, with its currency stated')
    const document = toAsyncApi(catalog) as any
    expect((await parse(document)).problems).toEqual([])
    expect(Object.keys(document.channels['test.price.set'].messages)).toEqual(['v1', 'v2', 'v3'])
    expect(document.operations['pricer.send.test.price.set'].messages).toEqual([{ $ref: '#/channels/test.price.set/messages/v3' }])
    expect(document.operations['valuer.receive.test.price.set'].messages).toHaveLength(3)
  })
})
