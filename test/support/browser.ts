import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser } from 'playwright-core'
import { packageRoot } from '../../src/pipeline/paths.js'

/** Debian's chromium (CI and scripts/setup.sh install the `chromium` package): nothing is downloaded. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** Where browser tests keep their screenshots (git-ignored): look at them. */
export const ARTIFACTS = join(packageRoot(), 'test-artifacts', 'console')

/**
 * Builds the console bundle into dist/console (esbuild, well under a second), as `npm run build`
 * does, unless it is newer than every source in web/console: other test files (e2e) may be
 * reading it at the same moment, and esbuild does not write atomically.
 */
export function buildConsole(): void {
  const bundle = join(packageRoot(), 'dist', 'console', 'app.js')
  const web = join(packageRoot(), 'web', 'console')
  const newest = Math.max(...readdirSync(web).map((f) => statSync(join(web, f)).mtimeMs))
  if (existsSync(bundle) && statSync(bundle).mtimeMs >= newest) return
  execFileSync(process.execPath, [join(packageRoot(), 'scripts', 'build-console.mjs')], { stdio: 'inherit' })
}

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no chromium at ${CHROMIUM}: install the Debian package chromium (scripts/setup.sh does), or set CHROMIUM_PATH`)
  mkdirSync(ARTIFACTS, { recursive: true })
  // --no-sandbox: CI runs as root, where chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] })
}
