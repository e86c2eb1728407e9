import type { Catalog, CatalogType } from './catalog.js'

export interface AsyncApiOptions {
  /** `info.title`. Default "eventspine event catalog". */
  readonly title?: string
  /** `info.version`: the version of this catalog (e.g. the package version). Default "1.0.0". */
  readonly version?: string
  /** The namespace used as the default of the channel address parameter. Default "pipeline". */
  readonly namespace?: string
}

type Json = Record<string, unknown>

// Keywords of our contract files that mean nothing to another team's tools.
const DROPPED = new Set(['$schema', '$id', 'x-producers', 'x-consumers', 'x-version'])

/** The envelope fields every event carries, as flat fields of its stream entry. */
export function envelopeHeaders(type: string, version: number): Json {
  return {
    type: 'object',
    description: 'The envelope: flat fields of the Redis stream entry next to the JSON payload.',
    required: ['id', 'type', 'version', 'source', 'occurredAt', 'correlationId', 'causationId', 'key'],
    properties: {
      id: { type: 'string', format: 'uuid', description: 'Time-sortable event id (UUIDv7); publishing the same id twice is a no-op.' },
      type: { type: 'string', const: type, description: 'The event type, which names the stream.' },
      version: { type: 'integer', const: version, description: 'The contract version the payload follows.' },
      source: { type: 'string', description: 'Who published the event.' },
      occurredAt: { type: 'string', format: 'date-time', description: 'When the fact happened (ISO 8601).' },
      correlationId: { type: 'string', description: 'One id per file journey, from intake to delivery.' },
      causationId: { type: 'string', description: 'The id of the event that caused this one; empty for an intake.' },
      key: { type: 'string', description: 'The entity whose order matters (e.g. the file or the share class).' },
    },
  }
}

/**
 * The catalog as an AsyncAPI 3.0.0 document: one channel per stream (address
 * `{namespace}:stream:<type>`, where the parameter is the key prefix with its hash tag), one
 * message per type and version with its payload schema and the envelope as headers, a `send`
 * operation per producer (latest version) and a `receive` operation per consumer (every stored
 * version, lifted by upcasters on read).
 */
export function toAsyncApi(catalog: Catalog, options: AsyncApiOptions = {}): Json {
  const namespace = options.namespace ?? 'pipeline'
  const channels: Json = {}
  const operations: Json = {}
  const messages: Json = {}
  for (const t of catalog.types) {
    const channel = safeId(t.type)
    const channelMessages: Json = {}
    for (const v of t.versions) {
      const messageId = `${channel}.v${v.version}`
      messages[messageId] = message(t, v.version, v.description, v.schema)
      channelMessages[`v${v.version}`] = { $ref: `#/components/messages/${messageId}` }
    }
    channels[channel] = {
      address: `{namespace}:stream:${t.type}`,
      title: t.type,
      description: t.description,
      parameters: {
        namespace: {
          description: `The key prefix with its hash tag, "{<namespace>}" (pipeline --namespace; default {${namespace}}).`,
          default: `{${namespace}}`,
          examples: [`{${namespace}}`],
        },
      },
      messages: channelMessages,
    }
    const ref = (version: number) => ({ $ref: `#/channels/${channel}/messages/v${version}` })
    for (const producer of t.producers) {
      operations[safeId(`${producer}.send.${t.type}`)] = {
        action: 'send',
        channel: { $ref: `#/channels/${channel}` },
        summary: `${producer} publishes ${t.type} v${t.latestVersion}.`,
        messages: [ref(t.latestVersion)],
      }
    }
    for (const consumer of t.consumers) {
      operations[safeId(`${consumer}.receive.${t.type}`)] = {
        action: 'receive',
        channel: { $ref: `#/channels/${channel}` },
        summary: `${consumer} reads ${t.type} (its own consumer group; older versions are upcast to v${t.latestVersion}).`,
        messages: t.versions.map((v) => ref(v.version)),
      }
    }
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: options.title ?? 'eventspine event catalog',
      version: options.version ?? '1.0.0',
      description:
        'Events on Redis Streams: one stream per event type, one consumer group per consumer. Each entry holds the envelope as flat fields and the payload as JSON. Delivery is at least once; consumers are idempotent by event id.',
    },
    defaultContentType: 'application/json',
    servers: {
      local: { host: 'localhost:6379', protocol: 'redis', description: 'The Redis that `pipeline up` starts or is given.' },
    },
    channels,
    operations,
    components: { messages },
  }
}

function message(t: CatalogType, version: number, description: string, schema: object): Json {
  return {
    name: t.type,
    title: `${t.type} v${version}`,
    summary: firstSentence(description),
    description,
    contentType: 'application/json',
    headers: envelopeHeaders(t.type, version),
    payload: strip(schema),
    'x-eventspine-version': version,
  }
}

function strip(schema: object): Json {
  return Object.fromEntries(Object.entries(schema).filter(([key]) => !DROPPED.has(key)))
}

// AsyncAPI ids are safest as letters, digits, dots, dashes and underscores.
function safeId(value: string): string {
  return value.replace(/[^A-Za-z0-9._-]/g, '_')
}

function firstSentence(text: string): string {
  const end = text.search(/[.:;](\s|$)/)
  return end === -1 ? text : text.slice(0, end + 1)
}
