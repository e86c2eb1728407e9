/** The transactional outbox: the table, the producer's writeOutbox, and the relay into the streams. */
export { OUTBOX_TABLE, OUTBOX_DEAD_TABLE, OUTBOX_CHANNEL, OUTBOX_COLUMNS, OUTBOX_MIGRATION, migrateOutbox, type OutboxColumn, type Queryable } from './table.js'
export { writeOutbox, type WriteOutboxOptions } from './write.js'
export { createRelay, type Relay, type RelayFigures, type RelayOptions, type RelayPoint } from './relay.js'
export { parseOutboxTarget, type OutboxTarget } from './target.js'
