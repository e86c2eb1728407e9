import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import pg from 'pg'
import { createBus, type Bus } from '../bus/bus.js'
import type { ContractChecker } from '../bus/contracts.js'
import { checkRunTag, deleteNamespaces } from '../bus/scratch.js'
import type { NewEvent } from '../bus/types.js'
import { EventspineError, errorMessage } from '../errors.js'
import { decodeEvent } from '../events/envelope.js'
import { deriveEventId, newEventId, type EventId } from '../events/ids.js'
import { createRelay, type RelayPoint } from '../outbox/relay.js'
import { migrateOutbox, OUTBOX_DEAD_TABLE, OUTBOX_TABLE } from '../outbox/table.js'
import type { OutboxTarget } from '../outbox/target.js'
import { writeOutbox } from '../outbox/write.js'
import { startThrowawayPostgres } from '../postgres/server.js'
import { resolveSeed } from './check.js'

/** The event type the outbox check writes: `{ tx, n }`, the transaction and the row's place in it. */
export const OUTBOX_CHECK_TYPE = 'outbox.check.credited'

/** One business transaction as the check hands it to a producer. */
export interface ProducerTransaction {
  /** The producer's own connection (a crash closes it, as a dead process's would). */
  readonly client: pg.Client
  /** For a producer that publishes itself (the classic bug: publish after commit). */
  readonly bus: Bus
  readonly number: number
  /** What the transaction tells the world, in order. */
  readonly events: readonly NewEvent[]
  /** The check asks this transaction to roll back instead of committing. */
  readonly rollback: boolean
  readonly contracts: Pick<ContractChecker, 'validate' | 'latestVersion'>
  /** Writes the transaction's state (a ledger row): "committed" means this row is there. */
  writeState(): Promise<void>
  /** Where a crash may hit: the check throws from here at the point it chose. */
  point(label: string): Promise<void>
}

/** A service that writes state and tells the world: what `checkOutbox` checks. */
export interface OutboxProducer {
  readonly name: string
  produce(tx: ProducerTransaction): Promise<void>
}

/** The pattern the outbox exists for: state and events in one transaction, through writeOutbox. */
export const transactionalProducer: OutboxProducer = {
  name: 'writeOutbox in the transaction',
  async produce(tx) {
    await tx.client.query('BEGIN')
    await tx.point('after BEGIN')
    await tx.writeState()
    for (const event of tx.events) {
      await writeOutbox(tx.client, event, { contracts: tx.contracts })
      await tx.point('after an outbox row')
    }
    await tx.client.query(tx.rollback ? 'ROLLBACK' : 'COMMIT')
    await tx.point(tx.rollback ? 'after ROLLBACK' : 'after COMMIT')
  },
}

export type OutboxProperty = 'committed-once' | 'nothing-rolled-back' | 'aggregate-order'

export interface OutboxCheckOptions {
  readonly redisUrl: string
  /** A postgres:// URL; the check works in a schema of its own there, dropped afterwards. */
  readonly postgresUrl: string
  /** Default: the transactional one. */
  readonly producer?: OutboxProducer
  /** Default 50. */
  readonly runs?: number
  /** Default FC_SEED, else random; printed with a failure. */
  readonly seed?: number
  readonly path?: string
}

export interface OutboxCheckReport {
  readonly passed: boolean
  readonly producer: string
  readonly seed: number
  readonly runs: number
  /** The first property broken, with the shrunk story that breaks it. */
  readonly failure: { readonly property: OutboxProperty; readonly message: string; readonly story: readonly string[]; readonly path: string } | null
}

const AGGREGATES = ['acc-a', 'acc-b', 'acc-c'] as const

type Step =
  | { readonly kind: 'tx'; readonly aggregates: readonly string[]; readonly rollback: boolean; readonly crashAt: number | null }
  | { readonly kind: 'relay'; readonly crashAt: RelayPoint | null }

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('tx' as const),
    aggregates: fc.array(fc.constantFrom(...AGGREGATES), { minLength: 1, maxLength: 3 }),
    rollback: fc.boolean(),
    crashAt: fc.option(fc.nat({ max: 4 }), { nil: null, freq: 3 }),
  }),
  fc.record({ kind: fc.constant('relay' as const), crashAt: fc.option(fc.constantFrom<RelayPoint>('claimed', 'published', 'deleted'), { nil: null, freq: 2 }) }),
)

function tell(step: Step, n: number): string {
  if (step.kind === 'relay') return step.crashAt === null ? 'relay: one claim' : `relay: one claim, crashes ${step.crashAt === 'claimed' ? 'after claiming' : step.crashAt === 'published' ? 'after Redis acknowledged' : 'after the delete, before commit'}`
  const crash = step.crashAt === null ? '' : `, producer crashes at its point #${step.crashAt + 1}`
  return `tx ${n}: ${step.aggregates.join(', ')} then ${step.rollback ? 'ROLLBACK' : 'COMMIT'}${crash}`
}

/** Only the harness's own type, `{ tx: integer, n: integer }`. */
const checkContracts: ContractChecker = {
  validate(type, _version, payload) {
    const p = payload as { tx?: unknown; n?: unknown }
    if (type !== OUTBOX_CHECK_TYPE || !Number.isInteger(p?.tx) || !Number.isInteger(p?.n)) throw new EventspineError('E_CONTRACT', `not an ${OUTBOX_CHECK_TYPE} event`)
  },
  upcast: (event) => event,
  latestVersion: (type) => (type === OUTBOX_CHECK_TYPE ? 1 : undefined),
}

class Crash extends Error {}

/**
 * The outbox property: a producer writes state and outbox rows in transactions, some roll back,
 * crashes hit the producer at each of its points and the relay before, between and after its
 * publish; a relay then drains the table. Every committed row must be in the stream exactly
 * once, nothing of a rolled-back or crashed transaction, and each aggregate's events in the
 * order their transactions committed. fast-check shrinks a failing schedule to a short story.
 */
export async function checkOutbox(options: OutboxCheckOptions): Promise<OutboxCheckReport> {
  const producer = options.producer ?? transactionalProducer
  const seed = resolveSeed(options.seed)
  const runs = options.runs ?? 50
  const schema = `eventspine_check_${randomBytes(4).toString('hex')}`
  const url = withSearchPath(options.postgresUrl, schema)
  const admin = new pg.Client({ connectionString: options.postgresUrl })
  admin.on('error', () => {})
  await admin.connect()
  const namespace = `${checkRunTag()}-0`
  const bus = await createBus({ url: options.redisUrl, namespace, contracts: checkContracts, warn: () => {} })
  let failure: OutboxCheckReport['failure'] = null
  try {
    await admin.query(`CREATE SCHEMA ${schema}`)
    await admin.query(`SET search_path TO ${schema}`)
    await migrateOutbox(admin)
    await admin.query('CREATE TABLE check_state (tx integer PRIMARY KEY)')
    const runOnce = async (steps: readonly Step[]) => {
      await admin.query(`TRUNCATE ${OUTBOX_TABLE}, ${OUTBOX_DEAD_TABLE}, check_state`)
      await bus.redis.del(bus.keys.stream(OUTBOX_CHECK_TYPE))
      const found = await runSchedule(steps, { url, bus, producer })
      const committed = new Set((await admin.query<{ tx: number }>('SELECT tx FROM check_state')).rows.map((r) => r.tx))
      return judge(found, committed)
    }
    const result = await fc.check(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 12 }), async (steps) => (await runOnce(steps)) === undefined),
      { numRuns: runs, seed, ...(options.path === undefined ? {} : { path: options.path }) },
    )
    if (result.failed) {
      const steps = result.counterexample?.[0] ?? []
      // Run the shrunk schedule once more to say which property it breaks (a schedule runs the same each time).
      const broken = steps.length > 0 ? await runOnce(steps) : undefined
      let n = 0
      failure = {
        ...(broken ?? { property: 'committed-once' as const, message: errorMessage(result.errorInstance) }),
        story: steps.map((step) => tell(step, step.kind === 'tx' ? ++n : n)),
        path: result.counterexamplePath ?? '',
      }
    }
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {})
    await admin.end().catch(() => {})
    await deleteNamespaces(bus.redis, namespace).catch(() => 0)
    await bus.close()
  }
  return { passed: failure === null, producer: producer.name, seed, runs, failure }
}

interface Found {
  /** The events each transaction was to tell, by transaction number. */
  readonly written: ReadonlyMap<number, readonly { id: string; key: string }[]>
  /** What the stream holds, in order. */
  readonly stream: readonly { id: string; key: string; tx: number; n: number }[]
}

async function runSchedule(steps: readonly Step[], env: { url: string; bus: Bus; producer: OutboxProducer }): Promise<Found> {
  const written = new Map<number, { id: string; key: string }[]>()
  let relayCrash: RelayPoint | null = null
  const relay = createRelay({
    url: env.url,
    bus: env.bus,
    migrate: false,
    onWarn: () => {},
    crashAt: (point) => {
      if (point === relayCrash) throw new Crash(`relay crash ${point}`)
    },
  })
  const base = newEventId()
  let client: pg.Client | undefined
  let number = 0
  try {
    for (const step of steps) {
      if (step.kind === 'relay') {
        relayCrash = step.crashAt
        await relay.relayOnce().catch((error: unknown) => {
          if (!(error instanceof Error) || !/relay crash/.test(error.message)) throw error
        })
        relayCrash = null
        continue
      }
      const tx = ++number
      const events = step.aggregates.map((key, n): NewEvent => ({ id: deriveEventId(base, `${tx}:${n}`) as EventId, type: OUTBOX_CHECK_TYPE, key, payload: { tx, n } }))
      written.set(tx, events.map((e) => ({ id: e.id as string, key: e.key })))
      if (client === undefined) {
        client = new pg.Client({ connectionString: env.url })
        client.on('error', () => {})
        await client.connect()
      }
      let points = 0
      const own = client
      try {
        await env.producer.produce({
          client: own,
          bus: env.bus,
          number: tx,
          events,
          rollback: step.rollback,
          contracts: checkContracts,
          writeState: async () => void (await own.query('INSERT INTO check_state VALUES ($1)', [tx])),
          point: async () => {
            if (points++ === step.crashAt) throw new Crash('producer crash')
          },
        })
      } catch (error) {
        if (!(error instanceof Crash)) throw error
        // The process died: its connection goes, and Postgres rolls back what it had not committed.
        await own.end().catch(() => {})
        client = undefined
      }
    }
    await relay.drain()
  } finally {
    await client?.end().catch(() => {})
    await relay.stop()
  }
  const entries = (await env.bus.redis.xrange(env.bus.keys.stream(OUTBOX_CHECK_TYPE), '-', '+')) as [string, string[]][]
  const stream = entries.map(([, fields]) => {
    const event = decodeEvent(fields)
    const payload = event.payload as { tx: number; n: number }
    return { id: event.id as string, key: event.key, tx: payload.tx, n: payload.n }
  })
  return { written, stream }
}

/** The first property the run broke, or undefined. */
function judge(found: Found, committed: ReadonlySet<number>): { property: OutboxProperty; message: string } | undefined {
  const seen = new Map<string, number>()
  for (const e of found.stream) seen.set(e.id, (seen.get(e.id) ?? 0) + 1)
  for (const [tx, events] of found.written) {
    for (const [n, e] of events.entries()) {
      const times = seen.get(e.id) ?? 0
      if (committed.has(tx) && times !== 1) return { property: 'committed-once', message: `tx ${tx} committed, yet its row ${n + 1} (${e.key}) is in the stream ${times} times` }
      if (!committed.has(tx) && times > 0) return { property: 'nothing-rolled-back', message: `tx ${tx} did not commit, yet its row ${n + 1} (${e.key}) is in the stream` }
    }
  }
  // Transactions run one after another here, so commit order is their number, then the row's place.
  const last = new Map<string, { tx: number; n: number }>()
  for (const e of found.stream) {
    const before = last.get(e.key)
    if (before !== undefined && (e.tx < before.tx || (e.tx === before.tx && e.n < before.n))) {
      return { property: 'aggregate-order', message: `${e.key}: tx ${e.tx} row ${e.n + 1} reached the stream after tx ${before.tx} row ${before.n + 1}` }
    }
    last.set(e.key, { tx: e.tx, n: e.n })
  }
  return undefined
}

/** The URL with `search_path` set for every connection made from it (libpq's `options`). */
function withSearchPath(url: string, schema: string): string {
  const u = new URL(url)
  u.searchParams.set('options', `-c search_path=${schema}`)
  return u.toString()
}

/** The report as `pipeline fuzz --outbox` prints it. */
export function renderOutboxReport(report: OutboxCheckReport): string {
  const head = `outbox property (${report.producer}): ${report.runs} runs, seed ${report.seed}`
  if (report.failure === null) return `${head}\n  ok  committed rows once, nothing rolled back, order per aggregate`
  const f = report.failure
  return [
    head,
    `  FAILED ${f.property}: ${f.message}`,
    '  shrunk counterexample:',
    ...f.story.map((line, i) => `    ${i + 1}. ${line}`),
    `  re-run it: FC_SEED=${report.seed} pipeline fuzz --outbox ... --path ${f.path}`,
  ].join('\n')
}

/** `pipeline fuzz --outbox`: the outbox property on the given database, or on a throwaway cluster started for it. */
export async function fuzzOutbox(options: Omit<OutboxCheckOptions, 'postgresUrl'> & { readonly target: OutboxTarget }): Promise<OutboxCheckReport> {
  if (options.target.kind === 'url') return checkOutbox({ ...options, postgresUrl: options.target.url })
  const server = await startThrowawayPostgres({ fsync: false })
  try {
    return await checkOutbox({ ...options, postgresUrl: server.url })
  } finally {
    await server.stop()
  }
}
