// `pipeline reconcile`: whether the business stayed right, not only what was processed (README).
import { windowIds, type Bus } from '../../bus/index.js'
import { redisTimeMs } from '../../redis/clock.js'
import { withPipelineBus, type PipelineConnection } from '../connection.js'
import { builtinSource, listingHost, type PipelineSource } from '../source.js'
import { STAGE } from '../stages/names.js'
import { reconcileFiles, type FileReconciliation } from './files.js'
import { reconcileFlow, type FlowReconciliation } from './flow.js'
import { reconcileMoney, type MoneyReconciliation } from './money.js'
import { reconcileState, type StateReconciliation } from './state.js'
import { reconcileTranslation, type TranslationReconciliation } from './translation.js'
import { EventspineError } from '../../errors.js'

export interface ReconcileOptions extends PipelineConnection {
  readonly source?: PipelineSource | undefined
  /** Window over entry ids (Redis's clock): this long ago until now, in ms. */
  readonly since?: number | undefined
  readonly from?: string | undefined
  readonly to?: string | undefined
  /** Read models to compare: `a` (against its rebuild) or `a:b`. */
  readonly state?: readonly string[] | undefined
  /** Reconcile the fund read model's money against the delivered documents. */
  readonly money?: boolean | undefined
  /** Translation consumers (the strangler path) whose old and new type to reconcile. */
  readonly translations?: readonly string[] | undefined
}

export interface Reconciliation {
  /** Entry ids, both inclusive; `-` and `+` for the ends of the log. */
  readonly window: { readonly from: string; readonly to: string }
  readonly files: FileReconciliation
  readonly flow: FlowReconciliation
  readonly states: readonly StateReconciliation[]
  readonly money: MoneyReconciliation | null
  readonly translations: readonly TranslationReconciliation[]
  /** Everything that does not add up; empty when the pipeline reconciles (exit 0). */
  readonly unexplained: readonly string[]
}

/** Counts, state and money over a window, on the pipeline's Redis. */
export function reconcilePipeline(options: ReconcileOptions): Promise<Reconciliation> {
  const source = options.source ?? builtinSource()
  return withPipelineBus({ ...options, contracts: source.contracts() }, (bus) => reconcile(bus, source, options))
}

export async function reconcile(bus: Bus, source: PipelineSource, options: Omit<ReconcileOptions, 'namespace'>): Promise<Reconciliation> {
  const now = await redisTimeMs(bus.redis)
  const { from, to } = windowIds(options, now)
  const consumers = source.consumers({ ...listingHost(), namespace: bus.namespace })
  const files = await reconcileFiles(bus, { intake: source.intakeEmits, endings: source.endings, from, to, now })
  const flow = await reconcileFlow(bus, consumers)
  const states: StateReconciliation[] = []
  for (const spec of options.state ?? []) states.push(await reconcileState(bus, consumers, spec))
  const money = options.money ? await reconcileMoney(bus, { readModel: STAGE.navLatest, from, to }) : null
  const translations: TranslationReconciliation[] = []
  for (const name of options.translations ?? []) {
    const consumer = consumers.find((c) => c.name === name && c.subscribes.length === 1 && (c.emits ?? []).length === 1)
    if (!consumer) throw new EventspineError('E_RECONCILE_UNKNOWN_READ_MODEL', `no translation consumer named "${name}" (one type read, one emitted) in the pipeline`)
    translations.push(await reconcileTranslation(bus, consumer, { from, to }))
  }
  const unexplained = [
    ...files.problems.map((p) => `file ${p.fileName || p.correlationId} (${p.correlationId}): ${p.problem}`),
    ...flow.problems,
    ...states.filter((s) => s.comparison.differing > 0).map((s) => `${s.left} (${s.comparison.leftRows} rows) and ${s.right} (${s.comparison.rightRows} rows) differ in ${s.comparison.differing} rows: ${s.comparison.differences.map((d) => d.key).join(', ')}${s.comparison.differing > s.comparison.differences.length ? ', ...' : ''}`),
    ...(money?.problems ?? []),
    ...translations.flatMap((t) => [
      ...(t.missing.length > 0 ? [`${t.consumer}: ${t.missing.length} ${t.from} events have no ${t.to} translation and are neither waiting nor dead-lettered: ${t.missing.join(', ')}`] : []),
      ...(t.twice.length > 0 ? [`${t.consumer}: ${t.twice.length} ${t.from} events were translated more than once: ${t.twice.join(', ')}`] : []),
    ]),
  ]
  return { window: { from, to }, files, flow, states, money, translations, unexplained }
}
