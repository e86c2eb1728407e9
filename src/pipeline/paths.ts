import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

let root: string | undefined

/** The eventspine package root (found upwards from this module, so it works from src/ and dist/). */
export function packageRoot(): string {
  if (root !== undefined) return root
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const manifest = join(dir, 'package.json')
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'eventspine') {
      root = dir
      return dir
    }
    const parent = dirname(dir)
    if (parent === dir) throw new Error('cannot find the eventspine package root above ' + fileURLToPath(import.meta.url))
    dir = parent
  }
}

/** Shipped reference tables: `funds.csv`, `identifiers.csv`. */
export function defaultReferenceDir(): string {
  return join(packageRoot(), 'fixtures', 'reference')
}

/** Shipped mapping profiles, one JSON file per provider. */
export function defaultProfilesDir(): string {
  return join(packageRoot(), 'fixtures', 'mapping-profiles')
}
