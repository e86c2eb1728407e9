import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { parseIndexRow } from '../../bus/index-rows.js'
import { readDeadLetters, type Bus, type ConsumerDefinition } from '../../bus/index.js'
import type { PoisonEntry } from './poison.js'

/** Something a chaos run broke beyond a file's outcome. */
export interface Violation {
  readonly kind:
    | 'unexpected-dead-letter'
    | 'poison-not-dead-lettered'
    | 'event-appended-twice'
    | 'output-count'
    | 'worker-crashed'
    | 'fault-not-injected'
    | 'fault-missed'
    | 'fault-not-recovered'
  readonly detail: string
}

/**
 * Dead letters must be exactly the poison: every group reading a poisoned stream dead-letters
 * each poison entry there, and nothing else is dead-lettered.
 */
export async function checkDeadLetters(bus: Bus, consumers: readonly ConsumerDefinition[], poison: readonly PoisonEntry[]): Promise<{ count: number; violations: Violation[] }> {
  const expected = new Set<string>()
  for (const entry of poison) for (const c of consumers) if (c.subscribes.includes(entry.type)) expected.add(`${c.name} ${entry.type} ${entry.entryId}`)
  const violations: Violation[] = []
  let count = 0
  for (const c of consumers) {
    for await (const dead of readDeadLetters(bus, c.name)) {
      count++
      const ref = `${c.name} ${dead.stream} ${dead.sourceEntryId}`
      if (!expected.delete(ref)) violations.push({ kind: 'unexpected-dead-letter', detail: `${c.name} dead-lettered ${dead.stream} ${dead.sourceEntryId}: ${dead.error}` })
    }
  }
  for (const ref of expected) {
    const [consumer, type, entryId] = ref.split(' ')
    violations.push({ kind: 'poison-not-dead-lettered', detail: `${consumer} did not dead-letter poison entry ${type} ${entryId}` })
  }
  return { count, violations }
}

/**
 * Each stage emits at most one event of a type per file: the correlation index (one row per
 * appended event) shows any effect applied twice across crashes and retries.
 */
export async function checkAppliedOnce(bus: Bus, correlationIds: readonly string[]): Promise<Violation[]> {
  const violations: Violation[] = []
  for (let from = 0; from < correlationIds.length; from += 500) {
    const chunk = correlationIds.slice(from, from + 500)
    const p = bus.redis.pipeline()
    for (const id of chunk) p.lrange(bus.keys.correlation(id), 0, -1)
    const replies = (await p.exec()) ?? []
    chunk.forEach((id, i) => {
      const counts = new Map<string, number>()
      for (const row of (replies[i]?.[1] ?? []) as string[]) {
        const ref = parseIndexRow(row)
        if (ref.kind === 'event') counts.set(ref.type, (counts.get(ref.type) ?? 0) + 1)
      }
      for (const [type, n] of counts) if (n > 1) violations.push({ kind: 'event-appended-twice', detail: `file ${id}: ${n} ${type} events` })
    })
  }
  return violations
}

/** One output document per delivered file: a crash must neither lose one nor leave a second. */
export async function checkOutputs(outDir: string, delivered: number): Promise<Violation[]> {
  const documents = (await listFiles(outDir)).filter((f) => f.endsWith('.json'))
  return documents.length === delivered ? [] : [{ kind: 'output-count', detail: `${documents.length} output documents for ${delivered} delivered files` }]
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => [])
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name))
}
