import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { EventspineError } from '../errors.js'
import type { GeneratedDay } from './day.js'
import type { Manifest } from './types.js'

/** A day on disk: `manifest.json`, `inbox/<files>`, `reference/{funds,identifiers}.csv`. */
export interface DayOnDisk {
  readonly dir: string
  readonly manifest: Manifest
  readonly inboxDir: string
  readonly referenceDir: string
}

/** Writes a generated day into `dir` (created if missing); the manifest last, so a day with a manifest is complete. */
export function writeDay(day: GeneratedDay, dir: string): DayOnDisk {
  const inboxDir = join(dir, day.manifest.inboxDir)
  const referenceDir = join(dir, day.manifest.referenceDir)
  mkdirSync(inboxDir, { recursive: true })
  mkdirSync(referenceDir, { recursive: true })
  for (const [name, bytes] of day.files) writeFileSync(join(inboxDir, name), bytes)
  writeFileSync(join(referenceDir, 'funds.csv'), day.reference.funds)
  writeFileSync(join(referenceDir, 'identifiers.csv'), day.reference.identifiers)
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(day.manifest, null, 2)}\n`)
  return { dir, manifest: day.manifest, inboxDir, referenceDir }
}

/** Reads a day written by `writeDay` (or `pipeline generate`). */
export function readDay(dir: string): DayOnDisk {
  let manifest: Manifest
  try {
    manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest
  } catch (error) {
    throw new EventspineError('E_DAY', `${dir} holds no readable manifest.json: ${error instanceof Error ? error.message : String(error)}`, {
      hint: 'Point --day at a folder written by `pipeline generate --out DIR`.',
    })
  }
  if (manifest.version !== 1 || !Array.isArray(manifest.files)) {
    throw new EventspineError('E_DAY', `${dir}/manifest.json is not a version 1 day manifest`, { hint: 'Generate the day again with this version of pipeline.' })
  }
  return { dir, manifest, inboxDir: join(dir, manifest.inboxDir), referenceDir: join(dir, manifest.referenceDir) }
}

/** One file's bytes from a day on disk. */
export function readDayFile(day: DayOnDisk, name: string): Buffer {
  return readFileSync(join(day.inboxDir, name))
}
