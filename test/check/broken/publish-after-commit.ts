import { publishEvents } from '../../../src/bus/publish.js'
import type { OutboxProducer } from '../../../src/testing.js'

/**
 * BROKEN: the dual write. Commits its state, then publishes to the stream itself: a crash
 * between the two (a deploy, an OOM kill, Redis down for a moment) loses the events of a
 * committed transaction, and no relay will ever send them.
 */
export const publishAfterCommit: OutboxProducer = {
  name: 'publish after commit',
  async produce(tx) {
    await tx.client.query('BEGIN')
    await tx.writeState()
    await tx.client.query(tx.rollback ? 'ROLLBACK' : 'COMMIT')
    await tx.point('after COMMIT')
    if (!tx.rollback) await publishEvents(tx.bus, tx.events)
  },
}
