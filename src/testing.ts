/**
 * eventspine/testing: the property harness behind `pipeline fuzz`, for your own tests.
 *
 * ```ts
 * import { checkConsumer, formatFailures } from 'eventspine/testing'
 * const report = await checkConsumer(myConsumer, { redisUrl, contractsDir: './contracts' })
 * expect(report.passed, formatFailures(report)).toBe(true)
 * ```
 *
 * and golden tests, in memory without Redis (the runtime's context, see `pipeline test`):
 *
 * ```ts
 * import { given } from 'eventspine/testing'
 * await given(myConsumer, { state: { count: '1' } })
 *   .when({ type: 'pipeline.file.delivered', key: 'f1', payload })
 *   .then({ emits: [{ type: 'audit.recorded', key: 'f1' }], state: { count: '2' } })
 * ```
 */
export { checkConsumer, checkConsumers, type CheckOptions, type CheckReport, type CheckTarget } from './check/check.js'
export { contractInputs, KEY_POOL, CORRELATION_POOL, type DraftEvent, type InputModel } from './check/inputs.js'
export { schemaArbitrary } from './check/schema.js'
export { startThrowawayRedis, type ThrowawayRedis } from './redis/server.js'
/** A local Redis Cluster (N masters, R replicas each) for tests on a cluster, with kill -9 and restart of a node. */
export { startLocalCluster, type LocalCluster, type LocalClusterOptions } from './redis/cluster.js'
export type { ConsumerEnv, ConsumerFactory, PipelineConfig } from './project/define.js'
export { given, type Given, type GoldenOptions } from './check/golden/spec.js'
export {
  checkOutbox,
  transactionalProducer,
  OUTBOX_CHECK_TYPE,
  type OutboxCheckOptions,
  type OutboxCheckReport,
  type OutboxProducer,
  type OutboxProperty,
  type ProducerTransaction,
} from './check/outbox.js'
export { startThrowawayPostgres, type ThrowawayPostgres } from './postgres/server.js'
export type { Expected, ExpectedEmit, StateValue } from './check/golden/expect.js'
export type { InputEvent } from './check/golden/run.js'
export { PROPERTIES, type CheckEnv, type ConsumerUnderTest, type Counterexample, type PropertyName, type PropertyResult } from './check/types.js'
import type { CheckReport } from './check/check.js'
import { renderReport } from './check/report.js'

/** The failures of a report as `pipeline fuzz` prints them (empty when all passed): for assertion messages. */
export function formatFailures(report: CheckReport): string {
  if (report.passed) return ''
  const failing = { ...report, results: report.results.filter((r) => !r.passed) }
  return renderReport(failing, { consumerArg: (c) => c, runs: 100, durationMs: 0 })
}
