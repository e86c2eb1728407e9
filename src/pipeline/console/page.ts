import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { EventspineError } from '../../errors.js'
import type { Trace } from '../inspect/trace.js'
import { packageRoot } from '../paths.js'

/** What a self-contained page shows: a load test's report, or one file's waterfall. */
export type StaticView = { readonly kind: 'load-report'; readonly data: unknown } | { readonly kind: 'trace'; readonly data: unknown }

export interface ConsoleBundle {
  readonly script: string
  readonly style: string
}

/** Where `npm run build` (scripts/build-console.mjs) puts the console's bundle. */
export function consoleDir(): string {
  return join(packageRoot(), 'dist', 'console')
}

let cached: ConsoleBundle | undefined

/** The built bundle (read once per process); an error saying how to build it when it is missing. */
export function consoleBundle(): ConsoleBundle {
  if (cached) return cached
  const dir = consoleDir()
  if (!existsSync(join(dir, 'app.js'))) {
    throw new EventspineError('E_CONSOLE_NOT_BUILT', `the web console is not built (no ${join(dir, 'app.js')})`, { hint: 'Run `npm run build` (or `node scripts/build-console.mjs`) in the eventspine checkout.' })
  }
  cached = { script: readFileSync(join(dir, 'app.js'), 'utf8'), style: readFileSync(join(dir, 'app.css'), 'utf8') }
  return cached
}

/**
 * JSON that is safe inside a `<script type="application/json">`: no `<` (so no `</script>` or
 * `<!--`), `>`, `&` or line separators survive as themselves; JSON.parse reads it back unchanged.
 */
export function embedJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029')
}

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`

/** The console page `up` serves: the bundle from its own origin. */
export function livePage(): string {
  return shell({ title: 'eventspine console', head: '<link rel="stylesheet" href="/assets/app.css">', body: '<script src="/assets/app.js"></script>' })
}

/**
 * One HTML file that opens without a network: the bundle and the data inlined, a CSP that lets
 * only these exact inline script and style run (by hash) and fetches nothing.
 */
export function staticPage(view: StaticView, title: string): string {
  const { script, style } = consoleBundle()
  const csp = `default-src 'none'; script-src ${sha256(script)}; style-src ${sha256(style)}; img-src data:; base-uri 'none'; form-action 'none'`
  return shell({
    title,
    head: `<meta http-equiv="content-security-policy" content="${csp}">\n<style>${style}</style>`,
    body: `<script type="application/json" id="eventspine-data">${embedJson(view)}</script>\n<script>${script}</script>`,
  })
}

/** Writes a self-contained page (`load --report`, `trace --html`). */
export async function writeStaticPage(path: string, view: StaticView, title: string): Promise<void> {
  await writeFile(path, staticPage(view, title))
}

function shell(parts: { title: string; head: string; body: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${parts.title.replace(/[<>&"]/g, '')}</title>
${parts.head}
</head>
<body>
<div id="app"></div>
${parts.body}
</body>
</html>
`
}

/** `pipeline trace ID --html`: one file's waterfall as a self-contained page. */
export function writeTracePage(path: string, trace: Trace): Promise<void> {
  return writeStaticPage(path, { kind: 'trace', data: trace }, `Journey of ${trace.fileName ?? trace.correlationId}`)
}
