// A relay in a process of its own, for tests that kill it (kill -9): argv postgres URL, Redis URL, namespace, contracts folder.
import { createBus } from '../../src/bus/index.js'
import { loadContracts } from '../../src/events/index.js'
import { createRelay } from '../../src/outbox/index.js'

const [url, redisUrl, namespace, contractsDir] = process.argv.slice(2) as [string, string, string, string]
const bus = await createBus({ url: redisUrl, namespace, contracts: loadContracts(contractsDir), warn: () => {} })
const relay = createRelay({ url, bus, batchSize: 20, pollMs: 500, onWarn: () => {} })
relay.start()
process.stdout.write('ready\n')
process.on('SIGTERM', () => {
  void relay.stop().then(() => bus.close()).then(() => process.exit(0))
})
