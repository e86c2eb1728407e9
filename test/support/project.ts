import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const src = resolve('src/index.ts')

/** A project folder holding these files; `EVENTSPINE` in them names this checkout's library (src/index.ts). */
export function scratchProject(files: Record<string, string>, dir = mkdtempSync(join(tmpdir(), 'eventspine-project-'))): string {
  // An ESM project, as `pipeline init` makes one (tsx reads .ts as CommonJS without it).
  for (const [name, text] of Object.entries({ 'package.json': '{ "type": "module" }\n', ...files })) {
    mkdirSync(join(dir, name, '..'), { recursive: true })
    writeFileSync(join(dir, name), text.replaceAll('EVENTSPINE', JSON.stringify(src)))
  }
  return dir
}

/** A contract file's text for a type whose payload has these required string fields. */
export function contractText(type: string, fields: readonly string[]): string {
  return JSON.stringify({
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: type,
    description: `${type} (a test project's contract).`,
    type: 'object',
    properties: Object.fromEntries(fields.map((f) => [f, { type: 'string' }])),
    required: fields,
  })
}
