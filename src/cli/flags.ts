import { Errors, Flags } from '@oclif/core'
import ms from 'ms'
import { DEFAULT_NAMESPACE, MAX_PARTITIONS, isValidNamespace } from '../bus/keys.js'
import { EventspineError } from '../errors.js'
import { parseOutboxTarget, type OutboxTarget } from '../outbox/target.js'

/** Flags shared by every command that talks to Redis, each with its environment variable. */
export const redisFlags = {
  'redis-url': Flags.string({
    summary: 'Redis to use (redis://, rediss://, or redis+cluster://host:port,... for a Redis Cluster). Default: PIPELINE_REDIS_URL, REDIS_URL, else a managed local redis-server.',
    env: 'PIPELINE_REDIS_URL',
    helpGroup: 'REDIS',
  }),
  namespace: Flags.string({
    summary: 'Prefix of every Redis key, so runs, tests and users never collide.',
    env: 'PIPELINE_NAMESPACE',
    default: DEFAULT_NAMESPACE,
    helpGroup: 'REDIS',
    parse: async (value) => {
      if (!isValidNamespace(value)) {
        throw flagError(`"${value}" is not a valid namespace: use 1-64 letters, digits, dots, dashes or underscores.`)
      }
      return value
    },
  }),
}

/** `--outbox`: the Postgres outbox whose relay runs in this host (`up`, `worker`). */
export const outboxFlag = {
  outbox: Flags.custom<OutboxTarget>({
    summary: 'Relay the transactional outbox of this Postgres (postgres://...), or of a throwaway local cluster (managed). Default: PIPELINE_OUTBOX, else the config\'s outbox.',
    env: 'PIPELINE_OUTBOX',
    helpGroup: 'OUTBOX',
    parse: parsedBy(parseOutboxTarget),
  })(),
}

/** `--partitions N` (up, worker, load): the namespace's partition count, stored with it the first time. */
export const partitionsFlag = {
  partitions: Flags.integer({
    summary: `Partitions of the namespace (1-${MAX_PARTITIONS}), each under its own hash tag; stored with the namespace, which refuses another count later. Default: the stored count, else 1.`,
    env: 'PIPELINE_PARTITIONS',
    helpGroup: 'REDIS',
    parse: async (value) => {
      const count = Number(value)
      if (!/^\d+$/.test(value.trim()) || count < 1 || count > MAX_PARTITIONS) throw flagError(`"${value}" is not a partition count: use a whole number from 1 to ${MAX_PARTITIONS}.`)
      return count
    },
  }),
}

/** `--reference-db`: enrich and resolve read the Postgres `reference` schema, kept current by relayed `reference.changed` events. */
export const referenceDbFlag = {
  'reference-db': Flags.string({
    summary: 'Reference data for enrich and resolve from this Postgres\'s reference schema, kept current by reference.changed events (relayed from its outbox).',
    env: 'PIPELINE_REFERENCE_DB',
    helpGroup: 'OUTBOX',
  }),
}

/** Flags of the schema commands: the user's own contracts and upcasters beside the built-in ones. */
export const catalogFlags = {
  contracts: Flags.string({
    summary: 'Extra folder of contracts (<type>/v<N>.schema.json) next to the built-in ones; repeatable.',
    env: 'PIPELINE_CONTRACTS',
    multiple: true,
  }),
  upcasters: Flags.string({
    summary: 'JavaScript module exporting registerUpcasters(registry), so the catalog knows your upcasters.',
    env: 'PIPELINE_UPCASTERS',
  }),
}

/** A duration flag (500ms, 30s, 24h, 7d) parsed to milliseconds. */
export function durationFlag(name: string, options: { summary: string; exclusive?: string[]; hidden?: boolean; default?: number }) {
  return Flags.custom<number>({
    ...options,
    parse: async (value) => {
      const span = ms(value as ms.StringValue) as number | undefined
      if (typeof span !== 'number' || !(span > 0)) throw flagError(`--${name} "${value}" is not a duration such as 500ms, 30s, 24h or 7d`)
      return span
    },
  })()
}

/**
 * A bad flag value: a usage error (exit 2), printed like any error people can act on (message,
 * then what to try). `reason` keeps the message as given: oclif prefixes `message` with the flag.
 */
export class FlagError extends Errors.CLIError {
  readonly reason: string
  readonly hint: string | undefined

  constructor(message: string, hint?: string) {
    super(message, { exit: 2, ...(hint === undefined ? {} : { suggestions: [hint] }) })
    this.reason = message
    this.hint = hint
  }
}

export function flagError(message: string, hint?: string): FlagError {
  return new FlagError(message, hint)
}

/**
 * A flag's `parse` made of a module's own parser, so the check lives beside what it checks
 * (and stays usable without the CLI) while a bad value is still a usage error: the parser's
 * error people can act on becomes {@link flagError} with its hint.
 */
export function parsedBy<T>(parse: (value: string) => T): (value: string) => Promise<T> {
  return async (value) => {
    try {
      return parse(value)
    } catch (error) {
      if (error instanceof EventspineError && error.userFixable) throw flagError(error.message, error.hint)
      throw error
    }
  }
}

/** A setup error the user fixes before anything runs (its message and hint): a usage error, exit 2. */
export function usageError(error: { message: string; hint?: string | undefined }): FlagError {
  return flagError(error.message, error.hint)
}
