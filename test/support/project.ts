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

/**
 * A team's own validate (consumers/validate.ts): ours, through eventspine/fund, at the host's
 * clock. `skip` is a bug: that rule's reasons are dropped. The two module specifiers are
 * 'eventspine' and 'eventspine/fund' in an installed project, or this checkout's sources.
 */
export function teamValidate(skip: string | null, modules: { readonly eventspine: string; readonly fund: string }): string {
  return `import { defineConsumer } from ${JSON.stringify(modules.eventspine)}
import { EVENT, validateFile, type MappedPayload } from ${JSON.stringify(modules.fund)}
export const validate = (env: { clock?: () => Date }) => defineConsumer({
  name: 'validate',
  subscribes: [EVENT.mapped],
  emits: [EVENT.validated, EVENT.rejected],
  handle(event, ctx) {
    const result = validateFile(event.payload as MappedPayload, { now: env.clock?.() ?? new Date() })
    const reasons = result.ok ? [] : result.payload.reasons.filter((r) => r.rule !== ${JSON.stringify(skip)})
    if (result.ok || reasons.length === 0) ctx.emit({ type: EVENT.validated, key: event.correlationId, payload: result.ok ? result.payload : { ...(event.payload as object), warnings: [] } })
    else ctx.emit({ type: EVENT.rejected, key: event.correlationId, payload: { ...result.payload, reasons } })
  },
})
`
}
