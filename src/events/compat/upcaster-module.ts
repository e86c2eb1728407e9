import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { EventspineError } from '../../errors.js'
import type { ContractRegistry } from '../contracts.js'

/** Registers upcasters on a registry; what an `--upcasters` module exports. */
export type RegisterUpcasters = (registry: ContractRegistry) => void | Promise<void>

/**
 * Imports a module that registers a project's upcasters and runs it on `registry`. The module
 * exports `registerUpcasters(registry)` or a default function of the same shape, so the CLI
 * knows the upcasters that the project's code registers.
 */
export async function loadUpcasterModule(file: string, registry: ContractRegistry): Promise<void> {
  const path = resolve(file)
  let loaded: Record<string, unknown>
  try {
    loaded = (await import(pathToFileURL(path).href)) as Record<string, unknown>
  } catch (error) {
    throw new EventspineError('E_SCHEMA_UPCASTERS', `cannot import the upcasters module ${path}: ${error instanceof Error ? error.message : String(error)}`, {
      hint: 'Pass a JavaScript module (built, .js or .mjs) that exports registerUpcasters(registry).',
      cause: error,
    })
  }
  const register = loaded['registerUpcasters'] ?? loaded['default']
  if (typeof register !== 'function') {
    throw new EventspineError('E_SCHEMA_UPCASTERS', `the upcasters module ${path} exports no registerUpcasters function`, {
      hint: 'export function registerUpcasters(registry) { registry.registerUpcaster("my.type", 1, (p) => ({ ...p })) }',
    })
  }
  await (register as RegisterUpcasters)(registry)
}
