import type { Bus } from '../../bus/bus.js'
import type { Runner, RunnerOptions } from '../../bus/runner.js'
import type { ConsumerDefinition } from '../../bus/types.js'

/**
 * The consumers a host runs, one runner each, replaceable one at a time: a reload drains the
 * runners of the consumers that changed (each commits what it holds and releases its lease,
 * the commit rules unchanged) and only then starts their new code, so nothing in flight is lost
 * or applied twice.
 */
export class RunningConsumers {
  private readonly byName = new Map<string, { definition: ConsumerDefinition; runner: Runner; fingerprint: string }>()
  private readonly groups: { stop(): Promise<void> }[] = []
  /** Runners that stopped (drained for a reload, or ended on their own). */
  private readonly ended = new WeakSet<Runner>()
  private order: string[] = []

  constructor(
    private readonly bus: Bus,
    private readonly options: RunnerOptions | undefined,
  ) {}

  start(consumers: readonly ConsumerDefinition[], fingerprint: (name: string) => string): void {
    if (consumers.length === 0) return
    const group = this.bus.run(consumers, this.options)
    this.groups.push(group)
    group.runners.forEach((runner, i) => {
      const definition = consumers[i]!
      void runner.done.then(() => this.ended.add(runner))
      this.byName.set(definition.name, { definition, runner, fingerprint: fingerprint(definition.name) })
    })
    this.order = [...new Set([...this.order, ...consumers.map((c) => c.name)])]
  }

  /** What a new version of the pipeline changes: consumers gone, new, or with other code (by fingerprint). */
  changes(next: readonly ConsumerDefinition[], fingerprint: (name: string) => string): { removed: string[]; added: string[]; changed: string[] } {
    const names = new Set(next.map((c) => c.name))
    return {
      removed: this.order.filter((n) => !names.has(n)),
      added: next.filter((c) => !this.byName.has(c.name)).map((c) => c.name),
      changed: next.filter((c) => this.byName.has(c.name) && this.byName.get(c.name)!.fingerprint !== fingerprint(c.name)).map((c) => c.name),
    }
  }

  /** Drains the consumers that changed or went, then starts the new and changed ones; returns the names restarted, added and removed. */
  async replace(next: readonly ConsumerDefinition[], fingerprint: (name: string) => string): Promise<{ removed: string[]; added: string[]; changed: string[] }> {
    const diff = this.changes(next, fingerprint)
    const stopping = [...diff.removed, ...diff.changed]
    await Promise.all(stopping.map((name) => this.byName.get(name)!.runner.stop()))
    for (const name of stopping) this.byName.delete(name)
    const starting = new Set([...diff.added, ...diff.changed])
    this.start(next.filter((c) => starting.has(c.name)), fingerprint)
    this.order = next.map((c) => c.name)
    return diff
  }

  definitions(): ConsumerDefinition[] {
    return this.order.flatMap((n) => {
      const running = this.byName.get(n)
      return running ? [running.definition] : []
    })
  }

  runners(): Runner[] {
    return this.order.flatMap((n) => {
      const running = this.byName.get(n)
      return running ? [running.runner] : []
    })
  }

  /** Whether the runner is still taking events (for /health). */
  isRunning(runner: Runner): boolean {
    return !this.ended.has(runner)
  }

  async stop(): Promise<void> {
    await Promise.all(this.groups.map((g) => g.stop()))
  }
}
