import { existsSync, realpathSync } from 'node:fs'
import { resolve } from 'node:path'
import { EventspineError } from '../../errors.js'
import { defaultContractsDir, loadContracts, type Contract, type ContractRegistry } from '../contracts.js'
import { loadUpcasterModule, type RegisterUpcasters } from './upcaster-module.js'

export interface RegistryOptions {
  /** Folders of contracts. */
  readonly dirs: readonly string[]
  /** A module exporting `registerUpcasters(registry)` (the CLI's `--upcasters`). */
  readonly upcastersModule?: string | undefined
  /** Upcasters the code registers (e.g. the built-in pipeline's, once it has a v2). */
  readonly register?: RegisterUpcasters
}

/** Loads contracts and registers every known upcaster, for the catalog and the check. */
export async function loadRegistry(options: RegistryOptions): Promise<ContractRegistry> {
  const registry = loadContracts(options.dirs)
  if (options.register !== undefined) await options.register(registry)
  if (options.upcastersModule !== undefined) await loadUpcasterModule(options.upcastersModule, registry)
  return registry
}

/** The shipped contracts plus extra folders (each once, even when given as another path). */
export function withShipped(extra: readonly string[] = []): string[] {
  const dirs = [defaultContractsDir()]
  const seen = new Set(dirs.map(real))
  for (const dir of extra) {
    if (!seen.has(real(dir))) dirs.push(resolve(dir))
    seen.add(real(dir))
  }
  return dirs
}

function real(dir: string): string {
  return existsSync(dir) ? realpathSync(dir) : resolve(dir)
}

/** One contract: the given version or the latest. Unknown type or version is E_CONTRACT_UNKNOWN with the known ones. */
export function findContract(registry: ContractRegistry, type: string, version?: number): Contract & { readonly latestVersion: number; readonly versions: number[] } {
  const latestVersion = registry.latestVersion(type)
  if (latestVersion === undefined) {
    throw new EventspineError('E_CONTRACT_UNKNOWN', `no contract for event type "${type}"`, {
      hint: `Known event types: ${registry.types().join(', ') || '(none)'}. See: pipeline schema list`,
      details: { type },
    })
  }
  const contract = registry.get(type, version ?? latestVersion)
  if (contract === undefined) {
    throw new EventspineError('E_CONTRACT_UNKNOWN', `no contract for ${type}@${version}`, {
      hint: `Known versions of ${type}: ${registry.versions(type).join(', ')}.`,
      details: { type, version },
    })
  }
  return { ...contract, latestVersion, versions: registry.versions(type) }
}
