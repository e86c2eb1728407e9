import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bareEnv, CLI_TIMEOUT_MS, runCli, type CliRun as Run } from '../support/cli.js'

// The built CLI as a user runs it (`npm test` builds first), with no terminal: stdin is a pipe.
let home: string

async function pipeline(args: string[]): Promise<Run> {
  return runCli(args, { cwd: home, env: bareEnv(home) })
}

function bash(script: string): Promise<Run> {
  return new Promise((done) => {
    execFile('bash', ['-c', script], { cwd: home, env: bareEnv(home), timeout: CLI_TIMEOUT_MS }, (error, stdout, stderr) =>
      done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    )
  })
}

beforeAll(() => {
  if (!existsSync(resolve('oclif.manifest.json'))) throw new Error('oclif.manifest.json is missing: run `npm run build` first (npm test does).')
  home = mkdtempSync(join(tmpdir(), 'eventspine-help-'))
})
afterAll(() => {
  rmSync(home, { recursive: true, force: true })
})

describe('pipeline help', () => {
  it('help <command> prints that command\'s help', async () => {
    const run = await pipeline(['help', 'trace'])
    expect(run.code).toBe(0)
    expect(run.stdout).toContain("Show one file's whole journey")
    expect(run.stdout).toContain('$ pipeline trace TARGET')
    expect(run.stdout).toContain('--follow')
  })

  it('-h is --help, for the CLI and for a command; -v is --version', async () => {
    const top = await pipeline(['-h'])
    expect(top.code).toBe(0)
    expect(top.stdout).toContain('COMMANDS')
    expect(top.stdout).toContain('trace')
    const status = await pipeline(['status', '-h'])
    expect(status.code).toBe(0)
    expect(status.stdout).toContain('$ pipeline status')
    expect(status.stdout).toContain('--redis-url')
    const version = await pipeline(['-v'])
    expect(version.code).toBe(0)
    expect(version.stdout).toMatch(/^eventspine\/\d+\.\d+\.\d+ /)
  })

  it('a typo is suggested the closest command and exits 127 without asking (no terminal)', async () => {
    const run = await pipeline(['trac'])
    expect(run.code).toBe(127)
    expect(run.stderr).toContain('trac is not a pipeline command')
    expect(run.stderr).toContain('Did you mean pipeline trace?')
    expect(run.stderr).not.toContain('(Y/n)')
    const topic = await pipeline(['dlq', 'lst'])
    expect(topic.code).toBe(127)
    expect(topic.stderr).toContain('Did you mean pipeline dlq list?')
  })
})

describe('pipeline autocomplete', () => {
  it('bash: the printed setup line registers a completion that completes commands and topics', async () => {
    const instructions = await pipeline(['autocomplete', 'bash'])
    expect(instructions.code).toBe(0)
    expect(instructions.stdout).toContain('pipeline autocomplete script bash')
    const run = await bash(
      `eval "$(${JSON.stringify(process.execPath)} ${JSON.stringify(resolve('bin/run.js'))} autocomplete script bash)" && complete -p pipeline && ` +
        'COMP_WORDS=(pipeline tr) COMP_CWORD=1 && _pipeline_autocomplete && echo "words: ${COMPREPLY[*]}" && ' +
        'COMP_WORDS=(pipeline dlq l) COMP_CWORD=2 && _pipeline_autocomplete && echo "words: ${COMPREPLY[*]}"',
    )
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('complete -F _pipeline_autocomplete pipeline')
    expect(run.stdout).toContain('words: trace\n')
    expect(run.stdout).toContain('words: list\n')
  })

  it('zsh: prints its setup line and writes the completion function', async () => {
    const run = await pipeline(['autocomplete', 'script', 'zsh'])
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('PIPELINE_AC_ZSH_SETUP_PATH=')
    expect(existsSync(join(home, '.cache/eventspine/autocomplete/functions/zsh/_pipeline'))).toBe(true)
  })
})
