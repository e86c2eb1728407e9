import { setTimeout as sleep } from 'node:timers/promises'
import { eachPartition } from '../../bus/across.js'
import { parseBreaker, type BreakerState } from '../../bus/breaker.js'
import { correlationSize, readCorrelation, type Bus } from '../../bus/index.js'
import type { EventEnvelope } from '../../events/index.js'
import { buildTrace, candidates, type ConsumerProbe, type Trace } from './trace.js'
import { readTopology, type Topology } from './topology.js'

type Located = { entryId: string; event: EventEnvelope; partition: number }

/**
 * Asks Redis, in one pipeline per partition that holds inputs (in parallel), about the consumers
 * that have the file's input and have not emitted: is each input in the consumer's inbox
 * (handled), how many attempts failed so far, and whether the consumer is paused (its breaker
 * open in the input's partition). An input is handled in the partition its entry is in.
 */
async function probeConsumers(bus: Bus, topology: Topology, events: readonly Located[]): Promise<Map<string, ConsumerProbe>> {
  const pending = candidates(topology, events.map((e) => e.event))
  const probes = new Map<string, ConsumerProbe>()
  if (pending.length === 0) return probes
  const located = new Map(events.map((e) => [e.event.id as string, e]))
  const asks = await eachPartition(bus, async (view, p) => {
    const asked: { consumer: string; eventId: string }[] = []
    const pipeline = view.redis.pipeline()
    for (const { consumer, inputs } of pending) {
      for (const input of inputs) {
        const at = located.get(input.id)
        if ((at?.partition ?? 0) !== p) continue
        pipeline.zscore(view.keys.inbox(consumer), input.id)
        pipeline.hget(view.keys.attempts(consumer), `${view.keys.stream(input.type)} ${at?.entryId ?? ''}`)
        asked.push({ consumer, eventId: input.id })
      }
    }
    const consumers = [...new Set(asked.map((a) => a.consumer))]
    if (asked.length === 0) return { asked, replies: [], breakers: new Map<string, BreakerState>() }
    for (const consumer of consumers) pipeline.hgetall(view.keys.breaker(consumer))
    const replies = (await pipeline.exec()) ?? []
    const breakers = new Map(consumers.map((consumer, i) => [consumer, parseBreaker((replies[2 * asked.length + i]?.[1] ?? {}) as Record<string, string>)]))
    return { asked, replies, breakers }
  })
  for (const { asked, replies, breakers } of asks) {
    asked.forEach(({ consumer, eventId }, i) => {
      const breaker = breakers.get(consumer) ?? { open: false }
      const probe = probes.get(consumer) ?? { handled: new Set<string>(), failures: new Map<string, number>(), breaker }
      probes.set(consumer, probe.breaker?.open || !breaker.open ? probe : { ...probe, breaker })
      if (replies[2 * i]?.[1] != null) (probe.handled as Set<string>).add(eventId)
      const failures = Number(replies[2 * i + 1]?.[1] ?? 0)
      if (failures > 0) (probe.failures as Map<string, number>).set(eventId, failures)
    })
  }
  return probes
}

/** One file's journey now: the index (O(its events)), then one pipeline of probes. Null when unknown. */
export async function readTrace(bus: Bus, correlationId: string, topology?: Topology): Promise<Trace | null> {
  const items = await readCorrelation(bus, correlationId)
  if (items.length === 0) return null
  const topo = topology ?? (await readTopology(bus))
  const events = items.flatMap((i) => (i.kind === 'event' && i.event ? [{ entryId: i.entryId, event: i.event, partition: i.partition ?? 0 }] : []))
  return buildTrace(correlationId, items, topo, await probeConsumers(bus, topo, events))
}

export interface FollowOptions {
  readonly signal?: AbortSignal
  /** How often the index length is checked. Default 200 ms. */
  readonly intervalMs?: number
  /** The trace is re-read at least this often even when the index has not grown (retries). Default 1000 ms. */
  readonly refreshMs?: number
  /** What the file waits for. Default: read from the namespace and the built-in pipeline. */
  readonly topology?: Topology
}

/**
 * Yields the journey each time it changes, until it is complete (a terminal event) or `signal`
 * aborts. Between changes it costs one LLEN per partition per interval.
 */
export async function* followTrace(bus: Bus, first: Trace, options: FollowOptions = {}): AsyncGenerator<Trace> {
  const topology = options.topology ?? (await readTopology(bus))
  let last = first
  let size = await correlationSize(bus, first.correlationId)
  let readAt = Date.now()
  let shown = JSON.stringify(first)
  while (last.status !== 'complete' && !options.signal?.aborted) {
    try {
      await sleep(options.intervalMs ?? 200, undefined, options.signal ? { signal: options.signal } : {})
    } catch {
      return // aborted
    }
    const now = await correlationSize(bus, first.correlationId)
    if (now === size && Date.now() - readAt < (options.refreshMs ?? 1_000)) continue
    size = now
    readAt = Date.now()
    const next = await readTrace(bus, first.correlationId, topology)
    if (next === null) continue
    last = next
    const text = JSON.stringify(next)
    if (text !== shown) {
      shown = text
      yield next
    }
  }
}
