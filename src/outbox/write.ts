import { EventspineError } from '../errors.js'
import { defaultContractsDir, loadContracts, type ContractRegistry } from '../events/index.js'
import { isEventId, newCorrelationId, newEventId, type EventId } from '../events/ids.js'
import type { ContractChecker } from '../bus/contracts.js'
import type { NewEvent } from '../bus/types.js'
import { OUTBOX_TABLE, type Queryable } from './table.js'

export interface WriteOutboxOptions {
  /** The contracts to check the payload against; default the shipped ones. A project passes `source.contracts()`. */
  readonly contracts?: Pick<ContractChecker, 'validate' | 'latestVersion'>
}

let shipped: ContractRegistry | undefined

/**
 * Writes `event` as an outbox row inside the caller's open transaction on `client` (BEGIN ...
 * writeOutbox ... COMMIT): the row commits with the state it describes, or neither does. The
 * payload is checked against its contract first, so a bad event fails the transaction, not the
 * relay. A transaction-level advisory lock per aggregate makes writers of one aggregate take
 * turns, so their rows' `seq` order is their commit order (the order the relay keeps).
 * Returns the event id (the stream entry's id once relayed).
 */
export async function writeOutbox(client: Queryable, event: NewEvent, options: WriteOutboxOptions = {}): Promise<EventId> {
  if (typeof event.type !== 'string' || event.type === '' || typeof event.key !== 'string' || event.key === '' || event.payload === undefined) {
    throw new EventspineError('E_OUTBOX_EVENT', 'writeOutbox needs an event with a type, a key (its aggregate) and a payload.')
  }
  if (event.id !== undefined && !isEventId(event.id)) throw new EventspineError('E_OUTBOX_EVENT', `writeOutbox: event id ${JSON.stringify(event.id)} is not a UUID.`)
  const contracts = options.contracts ?? (shipped ??= loadContracts(defaultContractsDir()))
  const version = event.version ?? contracts.latestVersion(event.type) ?? 1
  contracts.validate(event.type, version, event.payload, 'writeOutbox')
  const id = event.id ?? newEventId()
  await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${OUTBOX_TABLE}:${event.key}`])
  await client.query(
    `INSERT INTO ${OUTBOX_TABLE} (event_id, aggregate, type, version, payload, correlation_id, causation_id, source, occurred_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, COALESCE($9::timestamptz, now()))`,
    [id, event.key, event.type, version, JSON.stringify(event.payload), event.correlationId ?? newCorrelationId(), event.causationId ?? '', event.source ?? 'outbox', event.occurredAt ?? null],
  )
  return id
}
