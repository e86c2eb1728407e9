import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { Config } from '@oclif/core'
import { beforeAll, describe, expect, it } from 'vitest'

// The README writes `pipeline <command>` everywhere: each one it names must be a command of the
// built CLI, found the way the CLI itself finds it (oclif's config over dist/commands).
let config: Config

beforeAll(async () => {
  if (!existsSync(resolve('dist/commands/up.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does).')
  config = await Config.load(resolve('.'))
})

/** Every `pipeline …` invocation in the README's code blocks and inline code, as written. */
function readmeInvocations(text: string): string[] {
  const code: string[] = []
  for (const block of text.matchAll(/```[a-z]*\n([\s\S]*?)```/g)) code.push(...(block[1] as string).split('\n'))
  for (const span of text.replace(/```[\s\S]*?```/g, '').matchAll(/`([^`\n]+)`/g)) code.push(span[1] as string)
  // A command starts a line, or follows `&&`, `|`, `;` or an environment assignment (FC_SEED=42 pipeline ...).
  return code.flatMap((line) => [...line.matchAll(/(?:^|&&|\||;|\s[A-Z_]+=\S+)\s*pipeline((?: [a-z][a-z-]*)+)/g)].map((m) => `pipeline${m[1] as string}`))
}

/** The command id (or topic) an invocation names (`dlq replay` -> `dlq:replay`), or what is wrong with it. */
function commandOf(invocation: string): string {
  const words = invocation.split(' ').slice(1)
  const [first, second] = words
  if (first === undefined) return 'no command'
  if (config.findCommand(first)) return first
  if (config.findTopic(first) && second !== undefined && config.findCommand(`${first}:${second}`)) return `${first}:${second}`
  // A topic alone (`pipeline dlq`) is what `pipeline dlq --help` explains.
  if (config.findTopic(first) && second === undefined) return first
  return `not a command: ${invocation}`
}

describe('README commands', () => {
  it('every `pipeline <command>` the README names exists in the built CLI', () => {
    const invocations = readmeInvocations(readFileSync('README.md', 'utf8'))
    expect(invocations.length).toBeGreaterThan(30)
    const named = new Set(invocations.map(commandOf))
    expect([...named].filter((c) => c.startsWith('not a command') || c === 'no command')).toEqual([])
    // The ones a first reader meets first are among them (so the extraction did not miss the Quick start).
    for (const id of ['up', 'doctor', 'status', 'publish', 'produce', 'tail', 'trace', 'dlq:list', 'replay', 'load', 'fuzz', 'clean']) expect(named).toContain(id)
  })

  it('the Quick start runs the linked command, and set-up links it', () => {
    const readme = readFileSync('README.md', 'utf8')
    expect(readme).toContain('scripts/setup.sh && pipeline up --demo')
    expect(readme).not.toMatch(/\.\/bin\/run\.js (up|doctor|status)/)
    expect(readFileSync('scripts/setup.sh', 'utf8')).toMatch(/ln -sfn "\$PWD\/bin\/run\.js" "\$link"/)
  })
})
